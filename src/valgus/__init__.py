"""valgus: rep-by-rep dynamic knee valgus from single-leg squat videos."""

__version__ = "0.1.0"
