"""Third-party benchmark data: a catalog of datasets pinned to upstream commits with a
sha256 per file, and the downloader behind `harness data get`.

Every name loads on first use, so `import harness` stays fast.
"""

from typing import TYPE_CHECKING

from harness._lazy import lazy_exports

_EXPORTS = {
    "DATASETS": "harness.data.catalog",
    "DataFile": "harness.data.catalog",
    "Dataset": "harness.data.catalog",
    "get_dataset": "harness.data.catalog",
    "DownloadError": "harness.data.fetch",
    "FetchReport": "harness.data.fetch",
    "fetch_dataset": "harness.data.fetch",
    "missing_files": "harness.data.fetch",
    "data_home": "harness.data.paths",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from harness.data.catalog import DATASETS, DataFile, Dataset, get_dataset
    from harness.data.fetch import DownloadError, FetchReport, fetch_dataset, missing_files
    from harness.data.paths import data_home
