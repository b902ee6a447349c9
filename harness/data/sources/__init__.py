"""Real datasets: importers from published formats into the cache, and the registry of them.

`KNOWN_DATASETS` names the datasets `harness data import NAME` knows; each entry says where the
data comes from (Hugging Face Hub id, the files of the offline copy), its class names, and the
importer that reads those files. Every importer writes "train", "val" (10 % of the official
train split, stratified, fixed seed: see `importing`) and "test" into the uint8 cache.

    name          offline files                         Hub id
    mnist         the four official IDX .gz files       ylecun/mnist
    usps          usps.h5 (Kaggle layout; needs h5py)   flwrlabs/usps
    cifar10       cifar-10-python.tar.gz                uoft-cs/cifar10
    cifar100      cifar-100-python.tar.gz               uoft-cs/cifar100
    cifar10-jpeg  cifar10_jpg.tar.gz + index CSV        (none: a lossy copy of cifar10)

`flwrlabs/usps` (columns image, label; 7,291 / 2,007 images) is the USPS copy that its dataset
card documents with the standard split; it is the one Flower's federated benchmarks use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from harness.configfile import did_you_mean
from harness.data.cache import CachedDataset, default_cache_root
from harness.data.sources import cifar, hub, imagefolder, mnist, usps
from harness.errors import UserError

# (PATH: a file or the folder holding the files, cache root) -> the cached dataset
Importer = Callable[[Path, Path], CachedDataset]

CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
    "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
    "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom",
    "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
    "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
    "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank",
    "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle",
    "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
)


@dataclass(frozen=True)
class KnownDataset:
    """An importable dataset. `hub_id` None: no Hub copy (import from files only)."""

    name: str
    description: str
    offline_files: tuple[str, ...]
    class_names: tuple[str, ...]
    importer: Importer
    hub_id: str | None = None
    hub_image_column: str = "image"
    hub_label_column: str = "label"

    def __post_init__(self) -> None:
        if len(set(self.class_names)) != len(self.class_names) or not self.offline_files:
            raise ValueError(f"{self.name}: class names must be distinct, files non-empty")

    @property
    def import_command(self) -> str:
        return f"`harness data import {self.name} PATH`"

    @property
    def path_hint(self) -> str:
        """What PATH must be for `import_command`."""
        if len(self.offline_files) == 1:
            return f"{self.offline_files[0]} or the folder holding it"
        return f"the folder holding {', '.join(self.offline_files)}"

    @property
    def hub_command(self) -> str | None:
        return None if self.hub_id is None else f"`harness data import {self.name} --hub`"


def _registry(*entries: KnownDataset) -> Mapping[str, KnownDataset]:
    return MappingProxyType({entry.name: entry for entry in entries})


KNOWN_DATASETS: Mapping[str, KnownDataset] = _registry(
    KnownDataset("mnist", "MNIST handwritten digits, 28x28 gray, official IDX files",
                 (*mnist.MNIST_MD5,), mnist.MNIST_CLASSES, mnist.import_mnist, "ylecun/mnist"),
    KnownDataset("usps", "USPS zip-code digits, 16x16 gray, Kaggle usps.h5",
                 (usps.USPS_FILE,), usps.USPS_CLASSES, usps.import_usps, "flwrlabs/usps"),
    KnownDataset("cifar10", "CIFAR-10, 32x32 RGB, official python archive",
                 (cifar.CIFAR10_ARCHIVE,), cifar.CIFAR10_CLASSES, cifar.import_cifar10,
                 "uoft-cs/cifar10", hub_image_column="img"),
    KnownDataset("cifar100", "CIFAR-100 (fine labels), 32x32 RGB, official python archive",
                 (cifar.CIFAR100_ARCHIVE,), CIFAR100_CLASSES, cifar.import_cifar100,
                 "uoft-cs/cifar100", hub_image_column="img", hub_label_column="fine_label"),
    KnownDataset("cifar10-jpeg", "CIFAR-10 as JPEG quality-75 re-encodings (lossy copy)",
                 (imagefolder.CIFAR10_JPEG_ARCHIVE, imagefolder.CIFAR10_JPEG_INDEX),
                 cifar.CIFAR10_CLASSES, imagefolder.import_cifar10_jpeg),
)


def get_known(name: str) -> KnownDataset:
    """The registry entry for `name`; UserError with a did-you-mean for an unknown name."""
    if name not in KNOWN_DATASETS:
        raise UserError(f'no importer for "{name}"{did_you_mean(name, KNOWN_DATASETS)}; '
                        f"importable datasets: {', '.join(KNOWN_DATASETS)}")
    return KNOWN_DATASETS[name]


def import_known(name: str, path: Path, root: Path | None = None) -> CachedDataset:
    """Import the offline files of dataset `name` from `path` into the cache at `root`."""
    return get_known(name).importer(Path(path), root or default_cache_root())


def import_known_from_hub(name: str, root: Path | None = None) -> CachedDataset:
    """Download dataset `name` from the Hugging Face Hub into the cache at `root`."""
    known = get_known(name)
    if known.hub_id is None:
        raise UserError(f"{name} has no Hugging Face Hub copy; import its files with "
                        f"{known.import_command}")
    return hub.from_hub(
        known.hub_id, root or default_cache_root(), name=name,
        image_column=known.hub_image_column, label_column=known.hub_label_column,
        class_names=known.class_names,
        offline_hint=f"import the dataset's files instead with {known.import_command}",
    )


def missing_dataset_message(name: str, root: Path | None = None) -> str:
    """What to say when dataset `name` is not in the cache at `root`: the commands that add it.

    For a known dataset it names the offline import command with its files, and the Hub id
    with the `--hub` command; otherwise the importable names (with a did-you-mean).
    """
    where = f" at {root}" if root is not None else ""
    known = KNOWN_DATASETS.get(name)
    if known is None:
        return (f'dataset "{name}" is not in the cache{where}{did_you_mean(name, KNOWN_DATASETS)}'
                f"; importable datasets: {', '.join(KNOWN_DATASETS)} "
                "(`harness data import NAME PATH`)")
    message = (f'dataset "{name}" is not in the cache{where}; import it with '
               f"{known.import_command} (PATH: {known.path_hint})")
    if known.hub_id is not None:
        message += (f", or from the Hugging Face Hub ({known.hub_id}) with "
                    f"{known.hub_command}")
    return message
