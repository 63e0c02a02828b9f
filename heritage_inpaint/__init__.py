__version__ = "0.1.0"

import logging as _logging


class _TorchvisionFallbackNotice(_logging.Filter):
    """transformers announces, on every run, that its image processors fall back from torchvision (which must never
    be installed here, see the README) to PIL. The fallback is what this project wants, so the notice is dropped at
    its source; every other transformers message is kept."""

    def filter(self, record: _logging.LogRecord) -> bool:
        return "requires torchvision (not installed)" not in record.getMessage()


_logging.getLogger("transformers.utils.import_utils").addFilter(_TorchvisionFallbackNotice())
