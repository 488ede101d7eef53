"""Type 1 diabetes (new onset): insulin requirement and insulin independence.

Lower stimulated C-peptide is worse, but the generic score dynamics raise the score with
autoimmune activity (``dS/dt = k_in·I·(S_max − S)/S_max − k_out·(S − S_floor)``), so the
score cannot be the C-peptide itself (``higher_is_worse=False`` would let activity *raise*
C-peptide). The equivalent transformation used here is the exogenous **insulin
requirement** (U/kg/day), which rises as β-cell function (C-peptide) is lost: higher is
worse. ``score_floor`` = 0: without autoimmune attack the residual β-cells of a
newly diagnosed patient cover the need (insulin-free periods after AHST with rising
C-peptide AUC; Couri JAMA 2009). The natural regression is negative: at unchanged activity
the requirement keeps rising as C-peptide falls (Greenbaum CJ et al. Diabetes 2012;61:2066;
Dabelea D et al. Diabetologia 2012;55:3359).

Progression: significant fall of stimulated C-peptide from baseline (Greenbaum 2012:
only 11 % without a significant fall by 2 years), a hazard proportional to the activity.

Remission at 1 year: insulin independence — requirement below ``remission_threshold``
(insulin can be stopped), not above baseline, without C-peptide progression.
Comparator: ``standard_care`` (insulin alone; no immunomodulation).

Read-out (``outcomes/disease_readouts``): stimulated C-peptide (mean 2-h mixed-meal AUC,
pmol/mL), a proportional loss of 51 % of β-cell function per year of pre-transplant
activity (TrialNet first-year slope, Greenbaum 2012) and a functional recovery (doubling,
assumed) of the surviving β-cells once the attack stops (C-peptide rise after AHST, Couri
2009). Unlike the score, the C-peptide is a direct read-out, so higher is better there.
"""

from immunoreset.diseases.base import ActivityReadout, DiseaseModel

MODEL = DiseaseModel(
    id="type1_diabetes",
    score_name="insulin requirement",
    score_unit="U/kg/day",
    progression_event="significant fall of stimulated C-peptide from baseline",
    remission_definition="insulin independence at 1 year (requirement below the stopping "
                         "threshold) without C-peptide progression",
    absolute_remission=True,
    readouts=(ActivityReadout("c_peptide_auc", "stimulated C-peptide (mixed-meal AUC mean)",
                              "pmol/mL"),),
)
