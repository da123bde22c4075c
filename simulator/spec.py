"""What the simulator imitates: facts from WaveSpeed's docs, and the choices we had to make.

Everything marked [inferred] is NOT stated by WaveSpeed; it is collected here so it is easy to
change when we learn better. Source marks follow docs/wavespeed.md.
"""

from __future__ import annotations

# --- Models -----------------------------------------------------------------------------------
KLING_IMAGE_O3 = "kwaivgi/kling-image-o3"
PROMPT_OPTIMIZER = "wavespeed-ai/prompt-optimizer"
KLING_ELEMENTS = "kwaivgi/kling-elements"
MODELS = (KLING_IMAGE_O3, PROMPT_OPTIMIZER, KLING_ELEMENTS)

# --- Kling Image O3 input [doc] ---------------------------------------------------------------
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9", "auto")
RESOLUTIONS = ("1k", "2k", "4k")
RESULT_TYPES = ("single", "series")
NUM_IMAGES_MIN, NUM_IMAGES_MAX = 1, 9
MAX_REFERENCE_IMAGES = 10
MAX_ELEMENTS = 3
# Defaults [doc]: the "Default" column of the "Request Parameters" table on the model page
# (docs/wavespeed.md; the first "Parameters" table agrees on resolution, result_type and
# num_images). prompt (required) and element_list have none ("-"). The one place they live:
# validation reads them, and the "normalised" history omits any field equal to its default.
KLING_IMAGE_O3_DEFAULTS: dict[str, object] = {
    "images": [],
    "aspect_ratio": "auto",
    "resolution": "1k",
    "result_type": "single",
    "num_images": 1,
}
MAX_PROMPT_CHARS = 2500  # [inferred] from Kling's own docs; WaveSpeed states no cap
MAX_REFERENCES_PLUS_ELEMENTS = 10  # [inferred] Kling counts both against one limit

# Pixel sizes [inferred]: from a third party serving Kling O3; WaveSpeed publishes none.
PIXEL_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "1:1": {"1k": (1024, 1024), "2k": (2048, 2048), "4k": (4096, 4096)},
    "16:9": {"1k": (1360, 768), "2k": (2720, 1536), "4k": (5440, 3072)},
    "9:16": {"1k": (768, 1360), "2k": (1536, 2720), "4k": (3072, 5440)},
    "4:3": {"1k": (1168, 880), "2k": (2336, 1760), "4k": (4736, 3520)},
    "3:4": {"1k": (880, 1168), "2k": (1760, 2336), "4k": (3520, 4736)},
    "3:2": {"1k": (1248, 832), "2k": (2496, 1664), "4k": (4992, 3328)},
    "2:3": {"1k": (832, 1248), "2k": (1664, 2496), "4k": (3328, 4992)},
    "21:9": {"1k": (1552, 656), "2k": (3104, 1312), "4k": (6272, 2688)},
}
AUTO_ASPECT_RATIO = "1:1"  # [inferred] what "auto" renders as; the real model picks per prompt
SERIES_IMAGE_COUNT = 4  # [inferred] how many images a "series" delivers

# --- Prices (USD) [doc] -----------------------------------------------------------------------
PRICE_PER_IMAGE = {"1k": 0.028, "2k": 0.028, "4k": 0.056}
PROMPT_OPTIMIZER_PRICE = 0.001  # [doc] "about $0.001 a use" on the playground
KLING_ELEMENTS_PRICE = 0.0  # [inferred] no published price

# --- Prompt optimizer [doc] -------------------------------------------------------------------
OPTIMIZER_STYLES = ("default", "artistic", "photographic", "technical", "anime", "realistic")
OPTIMIZER_MODES = ("image", "video")  # [inferred] "video" accepted too; Darkroom sends "image"
# [inferred] what the optimizer assumes for an absent style/mode; NOT documented as defaults,
# so the "normalised" history does not omit them (see INPUT_DEFAULTS)
OPTIMIZER_ASSUMED = {"style": "default", "mode": "image"}

# --- Kling Elements [inferred: shape from third parties] --------------------------------------
ELEMENT_NAME_MAX = 20
ELEMENT_DESCRIPTION_MAX = 100
ELEMENT_DESCRIPTION_REQUIRED = False  # [inferred]

# --- Predictions ------------------------------------------------------------------------------
STATUSES = ("created", "processing", "completed", "failed")  # [doc]
FINAL_STATUSES = ("completed", "failed")
RETENTION_SECONDS = 7 * 24 * 3600  # [doc] predictions, outputs and uploads live 7 days
FAST_MODEL_MAX_LATENCY = 0.5  # [inferred] optimizer/elements "complete quickly": cap in seconds
FAST_MODELS_USE_SLOTS = True  # [inferred] every task counts against the account's concurrency
IMAGE_RATE_WINDOW = 60.0  # seconds, for "images per minute" [doc]
# [inferred] a single submit asking for more images than the per-minute limit is let through
# when the window is empty; otherwise it could never succeed.

# Failure codes [doc]; the default texts are [inferred].
FAILURE_MESSAGES = {
    1200: "Content moderation: the request was flagged as inappropriate",
    1400: "Missing required parameter",
    1401: "Invalid parameter",
    1402: "Failed to fetch media from the given URL",
    1403: "Task failed",
    1405: "Task failed",
    5000: "Internal server error",
    5003: "Service temporarily unavailable",
    5004: "Task timed out",
}
DEFAULT_FAILURE_CODE = 5000  # [inferred] for a fail_prediction fault that names no code

# --- History (POST /api/v3/predictions) --------------------------------------------------------
# How its items echo each prediction's `input` (config history_inputs). The real API's choice is
# not documented [inferred], so a client must cope with each:
#   exact       the input as submitted (the default)
#   normalised  as submitted minus every field equal to the model's documented default
#   none        no `input` key at all
HISTORY_INPUTS = ("exact", "normalised", "none")
# Per model, the documented defaults that "normalised" omits; models not listed echo exactly.
INPUT_DEFAULTS: dict[str, dict[str, object]] = {KLING_IMAGE_O3: KLING_IMAGE_O3_DEFAULTS}

# --- HTTP answers ------------------------------------------------------------------------------
INSUFFICIENT_BALANCE_STATUS = 402  # [inferred] the docs don't give the status
INSUFFICIENT_BALANCE_MESSAGE = "Insufficient balance"
UNKNOWN_MODEL_STATUS = 404  # [inferred]

# --- Media uploads [doc] ----------------------------------------------------------------------
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # "20 MB" [inferred: MiB]
UPLOAD_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")  # Pillow format names
UPLOAD_CONTENT_TYPES = {  # [inferred] what the two-step upload accepts as content_type
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
}
UPLOAD_URL_TTL = 3600.0  # [inferred] lifetime of the presigned PUT URL, seconds
MAX_REQUEST_BYTES = 64 * 1024 * 1024  # bodies beyond this are refused unread (413) [inferred]

# --- Webhooks [doc] -----------------------------------------------------------------------------
WEBHOOK_SECRET_PREFIX = "whsec_"
WEBHOOK_TRIES = 3  # best effort; WaveSpeed documents no retries [inferred]
WEBHOOK_BACKOFF = (0.5, 1.0)  # [inferred] seconds between tries
WEBHOOK_TIMEOUT = 5.0  # [inferred]
WEBHOOK_TICK = 0.2  # how often pending predictions are advanced while webhooks are due

# --- Output CDN --------------------------------------------------------------------------------
OUTPUT_FORMATS = ("png", "jpeg")
# Rendered outputs kept in memory (LRU): a 1k PNG of the stand-in is ~0.1-1 MB, so hundreds of
# recent ones, as a CDN holds them.
OUTPUT_CACHE_BYTES = 256 * 1024 * 1024
