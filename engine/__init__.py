"""ShiftLab's engine: pure numpy + OpenCV convolution, activation, pooling and measurement,
and trained networks run with onnxruntime.

Never imports Qt. Every function takes arrays and returns new arrays.
"""

# First, before any module that imports cv2: OpenCV reads its pixel limit when loaded.
from . import _opencv_limits  # noqa: F401  # isort: skip
from .compare import (
    StageComparison,
    compare_results,
    normalized_distance,
)
from .comparison import (
    TRANSFORM_KINDS,
    Comparison,
    InputTransform,
    equivariance_error,
    stride_text,
)
from .conv import ACTIVATIONS, PADDINGS, activate, conv2d, relu
from .examples import EXAMPLES, SAMPLE_PHOTOS, Example, load_example, sample_photo
from .explain import CellExplanation, ExplainError, explain_cell
from .image_io import ImageLoadError, load_color_image, load_image
from .kernels import KERNELS, parse_kernel_text
from .maxima import find_maxima
from .networks import (
    MAX_MODEL_BYTES,
    NETWORKS,
    MapGeometry,
    MeasureResult,
    Network,
    NetworkChoice,
    NetworkLoadError,
    NetworkResult,
    held_out_digits,
    load_network,
    measure,
)
from .pipeline import PipelineResult, PipelineSpec, Stage, run_pipeline
from .pool import POOL_MODES, binomial_taps, blur_kernel, pool2d, pool_pyramid
from .session import Session, SessionError, load_session, save_session
from .state import (
    CompareSetup,
    ImageSource,
    InputImage,
    StateError,
    StateRun,
    ViewState,
    compare_inputs,
    difference_result,
    example_state,
    run_state,
)
from .sweep import SWEEP_AXES, SweepCancelled, shift_sweep, sweep_stages
from .trajectory import TRAJECTORY_COLUMNS, TrackPoint, Trajectory, track_points
from .transforms import (
    first_asymmetric_stage,
    mirror,
    mirror_kernel,
    mirror_note,
    mirror_symmetry,
    rotate90,
    translate,
)
from .video_input import (
    Frame,
    TruncatedVideoError,
    VideoError,
    VideoInfo,
    VideoReader,
    open_camera,
    open_video,
    probe_cameras,
)

__all__ = [
    "ACTIVATIONS",
    "MAX_MODEL_BYTES",
    "NETWORKS",
    "MapGeometry",
    "MeasureResult",
    "Network",
    "NetworkChoice",
    "NetworkLoadError",
    "NetworkResult",
    "held_out_digits",
    "load_network",
    "measure",
    "CompareSetup",
    "ImageSource",
    "InputImage",
    "Session",
    "SessionError",
    "StateError",
    "load_session",
    "save_session",
    "StateRun",
    "ViewState",
    "difference_result",
    "example_state",
    "run_state",
    "stride_text",
    "Comparison",
    "InputTransform",
    "TRANSFORM_KINDS",
    "compare_inputs",
    "EXAMPLES",
    "KERNELS",
    "PADDINGS",
    "POOL_MODES",
    "SAMPLE_PHOTOS",
    "SWEEP_AXES",
    "Example",
    "ImageLoadError",
    "PipelineResult",
    "PipelineSpec",
    "Stage",
    "StageComparison",
    "SweepCancelled",
    "activate",
    "binomial_taps",
    "blur_kernel",
    "compare_results",
    "conv2d",
    "equivariance_error",
    "find_maxima",
    "first_asymmetric_stage",
    "load_color_image",
    "load_example",
    "load_image",
    "mirror",
    "mirror_kernel",
    "mirror_note",
    "mirror_symmetry",
    "normalized_distance",
    "parse_kernel_text",
    "pool2d",
    "pool_pyramid",
    "relu",
    "rotate90",
    "run_pipeline",
    "sample_photo",
    "shift_sweep",
    "sweep_stages",
    "translate",
    "CellExplanation",
    "ExplainError",
    "explain_cell",
    "TRAJECTORY_COLUMNS",
    "TrackPoint",
    "Trajectory",
    "track_points",
    "Frame",
    "TruncatedVideoError",
    "VideoError",
    "VideoInfo",
    "VideoReader",
    "open_camera",
    "open_video",
    "probe_cameras",
]
