"""Document analysis for print estimates: pages, colour and paper size of a print file.

``analyse_document(path)`` reads PDF, PostScript/EPS (also gzip'd), PCL XL, PCL 5 and XPS
and returns a :class:`DocumentAnalysis`; ``billable_usage`` applies copies, n-up and
sides; ``analyse_or_fall_back`` applies the configured :class:`FallbackRule` when a file
cannot be analysed; ``analyse_isolated`` runs the analysis in a child process under time
and memory limits (what every caller uses on files from strangers).
See docs/document-analysis.md for the method and its limits.

``analyse_gcode(path)`` reads text G-code and Prusa binary G-code (.bgcode) and returns a
:class:`GcodeAnalysis` (filament per extruder, grams, layers, box, time, and the slicer's
own figures beside ours); ``filament_up_to`` is what was extruded up to a file position.
See docs/gcode-analysis.md.
"""

from analysis.bgcode import decode_bgcode, is_bgcode
from analysis.document import analyse_document
from analysis.errors import (
    AnalysisStopped,
    DocumentAnalysisError,
    EncryptedDocument,
    MalformedDocument,
    UnsupportedDocument,
)
from analysis.fallback import FallbackRule, analyse_or_fall_back, fallback_analysis
from analysis.gcode import analyse_gcode, filament_up_to
from analysis.gcode_model import GcodeAnalysis, GcodeError, SlicerFigures, grams_of
from analysis.impressions import BillableUsage, ImpressionColour, Sides, billable_usage
from analysis.isolated import analyse_isolated, check_limits
from analysis.model import DocumentAnalysis, PageAnalysis, PageColour
from analysis.paper import PaperSize, paper_size
from analysis.reported import analysis_from_counts

__all__ = [
    "AnalysisStopped",
    "BillableUsage",
    "DocumentAnalysis",
    "DocumentAnalysisError",
    "EncryptedDocument",
    "FallbackRule",
    "GcodeAnalysis",
    "GcodeError",
    "ImpressionColour",
    "MalformedDocument",
    "PageAnalysis",
    "PageColour",
    "PaperSize",
    "Sides",
    "SlicerFigures",
    "UnsupportedDocument",
    "analyse_document",
    "analyse_gcode",
    "analyse_isolated",
    "analyse_or_fall_back",
    "analysis_from_counts",
    "billable_usage",
    "check_limits",
    "decode_bgcode",
    "fallback_analysis",
    "filament_up_to",
    "grams_of",
    "is_bgcode",
    "paper_size",
]
