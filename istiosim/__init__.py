"""istiosim: simulate Istio HTTP routing in-process."""
__version__ = "0.1.0"
