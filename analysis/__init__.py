"""Document analysis for print estimates: pages, colour and paper size of a print file.

``analyse_document(path)`` reads PDF, PostScript/EPS (also gzip'd), PCL XL, PCL 5 and XPS
and returns a :class:`DocumentAnalysis`; ``billable_usage`` applies copies, n-up and
sides; ``analyse_or_fall_back`` applies the configured :class:`FallbackRule` when a file
cannot be analysed; ``analyse_isolated`` runs the analysis in a child process under time
and memory limits (what every caller uses on files from strangers).
See docs/document-analysis.md for the method and its limits.
"""

from analysis.document import analyse_document
from analysis.errors import (
    AnalysisStopped,
    DocumentAnalysisError,
    EncryptedDocument,
    MalformedDocument,
    UnsupportedDocument,
)
from analysis.fallback import FallbackRule, analyse_or_fall_back, fallback_analysis
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
    "ImpressionColour",
    "MalformedDocument",
    "PageAnalysis",
    "PageColour",
    "PaperSize",
    "Sides",
    "UnsupportedDocument",
    "analyse_document",
    "analyse_isolated",
    "analyse_or_fall_back",
    "analysis_from_counts",
    "billable_usage",
    "check_limits",
    "fallback_analysis",
    "paper_size",
]
