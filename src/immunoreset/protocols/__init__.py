"""Validated protocol specs: mobilisation, apheresis, graft processing, conditioning."""

from immunoreset.protocols.graft_processing import GraftProcessingSpec
from immunoreset.protocols.mobilisation import ApheresisSpec, HarvestSpec, MobilisationSpec
from immunoreset.protocols.protocol import Protocol
from immunoreset.protocols.regimens import Conditioning, Dose, GcsfSchedule, conditioning

__all__ = [
    "ApheresisSpec", "Conditioning", "Dose", "GcsfSchedule", "GraftProcessingSpec",
    "HarvestSpec", "MobilisationSpec", "Protocol", "conditioning",
]
