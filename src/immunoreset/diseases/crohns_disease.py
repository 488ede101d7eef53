"""Crohn's disease: CDAI (0–600) and treatment failure.

Score: Crohn's Disease Activity Index. ``score_floor`` is the activity-independent part
(symptoms after resections and stricturing damage); it differs between patients
(``score_floor_spread``): a fifth of patients keep a CDAI of 150 or more with healed mucosa
(SONIC, Peyrin-Biroulet Gut 2014; Dai PLoS One 2014), never enter clinical remission, and
have therapy restarted for those symptoms (``symptomatic_failure_rate``).

Progression: treatment failure — restart of Crohn's medical therapy or surgery for active
disease, the relapse definition of the Northwestern HSCT series (Burt RK et al. Blood
2010;116:6123: free of restarting medical therapy 91/63/57/39/19 % at 1-5 years).

Remission at 1 year: CDAI < 150 (``remission_threshold``; the clinical-remission part of
the ASTIC primary end point, Hawkey JAMA 2015) without treatment failure. The ASTIC
primary end point also required 3 months off all therapy and no endoscopic or
radiological disease; a trial spec composes it from this remission, its duration
(``remission_sustained_days_y1``) and the endoscopic and transmural read-outs below.
Comparator: ``conventional_therapy`` (already failed before transplant in ASTIC).

Read-outs (``outcomes/disease_readouts``): the Simple Endoscopic Score for Crohn's Disease
(SES-CD) is taken to be all activity-driven, ``SES-CD(t) = SES-CD0·Ī(t)`` with ``Ī`` the
activity seen through a mucosal-healing lag (half-life 90 days); endoscopic remission is
SES-CD ≤ 2 in a living patient. Nothing is fitted to ASTIC's complete endoscopic healing
at 1 year after HSCT (50 %, 34-66; Lindsay 2017): that figure is a validation target.
Bowel wall thickness (intestinal ultrasound or MR enterography) has an inflammatory part
that heals with the same lag and a structural part (fibrosis, muscular hypertrophy) that
does not, ``BWT(t) = BWT0·(1 + g·(1 − Ī(t)))`` with ``1 + g`` the structural share;
transmural healing is BWT ≤ 3 mm (Castiglione, Dig Liver Dis 2017). ``g`` is derived from
the share of mucosally healed patients on anti-TNF who also heal transmurally, so a thick
wall can stay "radiologically active" after the mucosa has healed.
"""

from immunoreset.diseases.base import ActivityReadout, DiseaseModel

MODEL = DiseaseModel(
    id="crohns_disease",
    score_name="CDAI",
    score_unit="points (0-600)",
    progression_event="treatment failure (restart of medical therapy or surgery)",
    remission_definition="CDAI < 150 at 1 year without treatment failure",
    absolute_remission=True,
    readouts=(
        ActivityReadout("ses_cd", "SES-CD (Simple Endoscopic Score for Crohn's Disease)",
                        "SES-CD points"),
        ActivityReadout("endoscopic_remission", "in endoscopic remission (SES-CD <= 2)",
                        "bool", kind="threshold", of="ses_cd", below=True),
        ActivityReadout("bowel_wall_thickness",
                        "bowel wall thickness of the most affected segment (ultrasound or MR "
                        "enterography)", "mm"),
        ActivityReadout("transmural_healing", "transmurally healed (bowel wall thickness <= 3 mm)",
                        "bool", kind="threshold", of="bowel_wall_thickness", below=True),
    ),
)
