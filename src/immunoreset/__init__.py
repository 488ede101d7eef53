"""immunoreset: mechanistic simulation and in-silico trials of autologous and allogeneic
haematopoietic stem cell transplantation for autoimmune disease.

Research software, not a medical device: no output of this package is a clinical
recommendation for any patient.
"""

__version__ = "0.1.0"
