"""The one-page, self-contained ``assessment.html`` (figures embedded as base64 PNG)."""

from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from immunoreset.clinic.assess import Assessment

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;color:#222;
font-size:14px}h1{font-size:1.5em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.warn{background:#fff4e0;padding:.6em;
border:1px solid #f0c36d}.not_eligible{background:#fde2e2}.needs_review{background:#fff4d6}
.eligible{background:#e3f6e3}.muted{color:#666;font-size:.9em}img{max-width:100%}
pre{background:#f6f6f6;padding:.8em;font-size:.85em;white-space:pre-wrap}"""

_CHART = [("remission", 2.0, "remission at 2 y"), ("remission", 5.0, "remission at 5 y"),
          ("progression", 5.0, "progression by 5 y"),
          ("treatment_related_death", 1.0, "treatment-related death by 1 y"),
          ("death_any_cause", 5.0, "death (any cause) by 5 y"),
          ("severe_infection", 5.0, "severe infection by 5 y")]


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _f(x: Any, d: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:.{d}g}" if isinstance(x, float) else str(x)


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    return "".join(out) + "</table>"


def benefit_risk_png(a: Assessment) -> str:
    """Benefit-vs-risk chart per protocol with 95 % intervals, as an ``<img>`` tag."""
    f = a.forecasts
    protos = list(dict.fromkeys(f["protocol"].to_list()))
    fig, ax = plt.subplots(figsize=(9, 0.5 + 0.55 * len(_CHART) * max(1, len(protos)) / 2))
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    ylabels, ypos = [], []
    for j, (name, hor, label) in enumerate(_CHART):
        for i, p in enumerate(protos):
            r = f.filter((f["protocol"] == p) & (f["outcome"] == name) &
                         (f["horizon_years"] == hor) & (f["status"] == "modelled"))
            y = j * (len(protos) + 1) + i
            if r.height:
                est, lo, hi = r["estimate"][0], r["ci_low"][0], r["ci_high"][0]
                ax.errorbar(est, y, xerr=[[max(est - lo, 0.0)], [max(hi - est, 0.0)]], fmt="o",
                            color=colors[i % len(colors)], capsize=3,
                            label=p if j == 0 else None)
        ylabels.append(label)
        ypos.append(j * (len(protos) + 1) + (len(protos) - 1) / 2)
    ax.set_yticks(ypos, ylabels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability (point: twins' mean; bar: 95 % interval)")
    ax.axhline(2 * (len(protos) + 1) - 1, color="#999", lw=0.8, ls="--")
    ax.text(0.99, ypos[0], "benefit", ha="right", va="center", color="#2a7", fontsize=9)
    ax.text(0.99, ypos[2], "risk", ha="right", va="center", color="#c33", fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="benefit versus risk per protocol" src="data:image/png;base64,{data}">'


def render_html(a: Assessment) -> str:
    """The assessment as one self-contained HTML page."""
    from immunoreset.clinic.assess import DISCLAIMER

    r, e, h = a.record, a.eligibility, a.hct_ci
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Assessment "
             f"{_e(r.patient_id or '')}</title><style>{_CSS}</style></head><body>",
             f"<h1>HSCT assessment: {_e(r.patient_id or 'patient')} ({_e(r.disease)})</h1>",
             f"<p class='warn'><b>Research use only.</b> {_e(DISCLAIMER)}</p>",
             f"<p>{_e(r.sex)}, {r.age_years:g} years, {r.weight_kg:g} kg, {r.height_cm:g} cm"
             f" (BMI {r.bmi_kg_m2:.1f} kg/m²); disease duration "
             f"{_f(r.disease_duration_years)} years; assessment date "
             f"{_e(r.assessment_date or 'not given')}.</p>"]
    parts.append(f"<h2>Eligibility: <span class='{e.status}'>{_e(e.status)}</span></h2>")
    parts.append("<p>By protocol: " + ", ".join(f"{_e(k)}: <span class='{v}'>{_e(v)}</span>"
                                               for k, v in e.by_protocol.items()) +
                 f". EBMT indication category {_e(e.indication['category'])} "
                 f"({_e(e.indication['source'])}).</p>")
    rows, cls = [], []
    for x in e.reasons:
        vals = ", ".join(f"{k} = {'not recorded' if v is None else v}" for k, v in x.values.items())
        rows.append([_e(x.criterion), _e(x.text), _e(x.result), _e(x.effect), _e(vals),
                     _e(x.threshold), _e(x.source) + (f"<br><i>{_e(x.note)}</i>" if x.note else ""),
                     _e("all" if x.protocols is None else ", ".join(x.protocols))])
        cls.append(x.effect)
    parts.append(_table(["criterion", "text", "result", "effect", "patient's value",
                         "threshold", "source", "protocols"], rows, cls))
    parts += [f"<p class='muted'>{_e(n)}</p>" for n in e.notes]
    parts.append(f"<h2>Scores</h2><p><b>HCT-CI {h.score}</b> ({_e(h.risk_group)} risk group"
                 + (f"; {len(h.unknown_items)} item(s) unknown, score up to {h.score_max}"
                    if h.unknown_items else "") + f"); {_e(h.citation)}. "
                 f"<b>HCT-CI/age {a.comorbidity_age.score}</b> "
                 f"({_e(a.comorbidity_age.risk_group)}): {_e(a.comorbidity_age.reason)}; "
                 f"{_e(a.comorbidity_age.citation)}.</p>")
    parts.append(_table(["item", "weight", "status", "points", "reason", "source"],
                        [[_e(i.id), str(i.weight), _e(i.status), str(i.points), _e(i.reason),
                          _e(i.source)] for i in h.items if i.status != "absent"]
                        or [["–", "", "no item present or unknown", "0", "", ""]]))
    parts.append("<p class='muted'>Items absent: " + ", ".join(
        i.id for i in h.items if i.status == "absent") + ". Risk groups from allogeneic HCT "
        "for haematological malignancy; not validated in autologous HSCT for autoimmune "
        "disease.</p>")
    parts.append("<h2>Benefit versus risk (individual forecast)</h2>" + benefit_risk_png(a))
    f = a.forecasts
    rows = []
    for x in f.iter_rows(named=True):
        if x["status"] == "modelled":
            val = (f"{x['estimate']:.3f}" if x["kind"] == "probability"
                   else f"{x['estimate']:.1f} {x['unit']}")
            ci = f"{_f(x['ci_low'])}–{_f(x['ci_high'])}"
        else:
            val, ci = _e(x["status"]), _e(x["reason"])
        rows.append([_e(x["protocol"]), _e(x["outcome"]), _f(x["horizon_years"]), val, ci,
                     _e(x["definition"])])
    parts.append(_table(["protocol", "outcome", "horizon (y)", "estimate", "95 % interval",
                         "definition"], rows))
    parts.append("<h2>Plan</h2>" + "".join(f"<pre>{_e(p.text())}</pre>" for p in a.plans))
    parts.append("<h2>Unknown values (reported, not guessed)</h2><ul>" + "".join(
        f"<li>{_e(k)}: {_e(', '.join(v) or 'none')}</li>" for k, v in a.unknown.items())
        + "</ul>")
    parts.append("<h2>Assumptions</h2><ul>" + "".join(f"<li>{_e(s)}</li>" for s in a.assumptions)
                 + "</ul>")
    if a.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{_e(w)}</li>" for w in a.warnings)
                     + "</ul>")
    p = a.provenance
    parts.append(f"<p class='muted'>immunoreset {_e(p.get('software', {}).get('version'))}, "
                 f"seed {_e(p.get('seed'))}, parameters sha256 "
                 f"{_e(p.get('parameters', {}).get('sha256', '')[:12])}, created "
                 f"{_e(p.get('created_utc'))}.</p></body></html>")
    return "\n".join(parts)
