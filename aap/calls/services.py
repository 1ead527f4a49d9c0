"""Calls for projects: every change to a call, its criteria and required documents.

The only place that writes calls to the database; records events; knows nothing of HTTP.
Refusals raise CallError (a ValueError) with a French message, and `errors` mapping field
names to messages when they concern fields of a form.
"""
import re
import unicodedata
from decimal import Decimal, InvalidOperation

import markdown as markdown_lib
import nh3
from markupsafe import Markup
from sqlalchemy import func

from .. import timeutil
from ..database import lock
from ..documents.convention_texts import check_convention_texts
from ..events import change_state, record
from ..extensions import db
from ..models import Application, Call, Criterion, RequiredPiece, Review, Score
from ..models.applications import DECIDED_STATES, Status
from ..models.calls import CALL_CLOSED, CALL_DRAFT, CALL_PUBLISHED, CallPhase
from ..models.review import REVIEW_SUBMITTED
from ..money import format_euros
from .contact import SERVICE_DEFAULTS, SERVICE_FIELDS, SERVICE_MAX
from .template import apply_template

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FORMATS = ("pdf", "jpeg", "png", "odt", "docx", "ods", "xlsx")
FORMAT_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "odt": "ODT (texte)",
                 "docx": "DOCX (Word)", "ods": "ODS (tableur)", "xlsx": "XLSX (Excel)"}
YEARS_CHOICES = {1: "Convention annuelle (1 an)", 3: "Convention pluriannuelle d'objectifs (CPO, 3 ans)"}
SCALE_MIN, SCALE_MAX = 2, 20
MAX_WEIGHT = Decimal("100")

CALL_FIELDS = ("title", "slug", "description", "opens_at", "closes_at", "review_deadline",
               "budget_cents", "min_amount_cents", "max_amount_cents", "years", "reviewers_per_file",
               "avoid_same_region", "hide_other_reviews", "advance_percent", "min_score", "budget_per_year",
               "grey_zone_draw", *SERVICE_FIELDS, "aid_scheme_id", "faq", "convention_texts",
               "convention_reminder_days", "report_due_months", "report_reminder_days")
# The follow-up after the decision (aap/followup/): (minimum, maximum, default, French message).
FOLLOWUP_SETTINGS = {
    "convention_reminder_days": (1, 180, 15, "Le délai avant la relance va de 1 à 180 jours."),
    "report_due_months": (1, 12, 6, "Le délai de remise du compte rendu va de 1 à 12 mois après la fin de "
                                    "l'année."),
    "report_reminder_days": (0, 180, 30, "Le rappel avant l'échéance va de 0 à 180 jours."),
}

# Markdown rendered for the public: no images (the CSP allows only our own), no raw HTML survives.
_ALLOWED_TAGS = {"p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u", "s",
                 "del", "ins", "mark", "small", "sub", "sup", "code", "pre", "blockquote", "ul", "ol",
                 "li", "dl", "dt", "dd", "a", "abbr", "table", "caption", "thead", "tbody", "tr", "th",
                 "td"}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}


class CallError(ValueError):
    """A refused change. str() is the French message; `errors` maps field names to messages."""

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.errors = dict(errors or {})


class CriteriaLocked(CallError):
    pass


# ---------------------------------------------------------------- reading

def render_markdown(text):
    """Markdown to sanitised HTML (safe to insert in a page)."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    # `h1` is the page's own title: the description's headings start at h2.
    html = re.sub(r"<(/?)h1\b", r"<\1h2", html)
    return Markup(nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                            url_schemes={"http", "https", "mailto"}))


def is_open(call, now=None):
    """Applications can be submitted now: published and between the opening and closing times."""
    now = now or timeutil.now()
    return call.status == CALL_PUBLISHED and call.opens_at <= now <= call.closes_at


def status_counts(calls):
    """{call id: {application status: number of files}} of the given calls (one query)."""
    ids = [call.id for call in calls]
    counts = {call_id: {} for call_id in ids}
    if ids:
        for call_id, status, n in db.session.execute(
                db.select(Application.call_id, Application.status, func.count(Application.id))
                .where(Application.call_id.in_(ids)).group_by(Application.call_id, Application.status)):
            counts[call_id][status] = n
    return counts


def phase(call, counts=None, now=None, as_published=False):
    """Where the call stands (CallPhase): draft; published but not yet open; open; closed (by
    staff or by its deadline); under review (files in review or reviewed); decided (decisions
    published and no file left in review). `counts` is {application status: number} of the
    call's files, when the page already has it (else one query). `as_published`: a draft is
    taken as published (the preview of its public page: what applicants will see)."""
    now = now or timeutil.now()
    status = CALL_PUBLISHED if as_published and call.status == CALL_DRAFT else call.status
    if status == CALL_DRAFT:
        return CallPhase.DRAFT
    if status == CALL_PUBLISHED and now < call.opens_at:
        return CallPhase.UPCOMING
    if status == CALL_PUBLISHED and now <= call.closes_at:
        return CallPhase.OPEN
    if counts is None:
        counts = status_counts([call])[call.id]
    in_review = any(counts.get(state) for state in (Status.IN_REVIEW, Status.REVIEWED))
    decided = any(counts.get(state) for state in DECIDED_STATES)
    if decided and not in_review:
        return CallPhase.DECIDED
    if in_review:
        return CallPhase.UNDER_REVIEW
    return CallPhase.CLOSED


def phases(calls, counts=None, now=None):
    """{call id: CallPhase} for a list of calls (at most one query, none given `counts`)."""
    now = now or timeutil.now()
    if counts is None:
        counts = status_counts(calls)
    return {call.id: phase(call, counts.get(call.id, {}), now) for call in calls}


def staff_overview():
    """All calls (newest first) with {call_id: {status: count}}: two queries whatever the size."""
    calls = db.session.scalars(db.select(Call).order_by(Call.opens_at.desc(), Call.id.desc())).all()
    counts = {}
    for call_id, status, n in db.session.execute(
            db.select(Application.call_id, Application.status, func.count(Application.id))
            .group_by(Application.call_id, Application.status)):
        counts.setdefault(call_id, {})[status] = n
    return calls, counts


def public_calls(now=None):
    """Published and closed calls: open ones first (closing soonest), then upcoming, then past."""
    now = now or timeutil.now()
    calls = db.session.scalars(
        db.select(Call).where(Call.status.in_((CALL_PUBLISHED, CALL_CLOSED)))
        .order_by(Call.closes_at.desc())).all()
    open_calls = sorted((c for c in calls if is_open(c, now)), key=lambda c: c.closes_at)
    upcoming = sorted((c for c in calls if c.status == CALL_PUBLISHED and c.opens_at > now),
                      key=lambda c: c.opens_at)
    past = [c for c in calls if c not in open_calls and c not in upcoming]
    return open_calls, upcoming, past


def get_public_call(slug):
    """A call visible to the public (published or closed), or None."""
    return db.session.scalar(db.select(Call).where(
        Call.slug == slug, Call.status.in_((CALL_PUBLISHED, CALL_CLOSED))))


def get_visible_call(slug, user):
    """(call, preview): the call as `user` may see it, published or closed for everyone, in any
    status for staff (preview is then True for a call the public cannot see); (None, False)."""
    call = get_public_call(slug)
    if call is None and user.is_authenticated and user.is_staff:
        call = db.session.scalar(db.select(Call).where(Call.slug == slug))
        return call, call is not None
    return call, False


def criteria_lock_info(call):
    """(number of submitted reviews, first submission time) of the call; (0, None) when none."""
    count, first = db.session.execute(
        db.select(func.count(Review.id), func.min(Review.submitted_at))
        .join(Application, Application.id == Review.application_id)
        .where(Application.call_id == call.id, Review.status == REVIEW_SUBMITTED)).one()
    return count, first


def criteria_locked(call):
    """Criteria cannot change once any review of the call has been submitted."""
    return db.session.query(
        db.select(Review.id).join(Application, Application.id == Review.application_id)
        .where(Application.call_id == call.id, Review.status == REVIEW_SUBMITTED)
        .exists()).scalar()


def has_applications(call):
    if call.id is None:
        return False
    return db.session.query(db.select(Application.id).where(Application.call_id == call.id).exists()).scalar()


def slug_taken(slug, exclude_id=None):
    query = db.select(Call.id).where(Call.slug == slug)
    if exclude_id is not None:
        query = query.where(Call.id != exclude_id)
    return db.session.scalar(query.limit(1)) is not None


# ---------------------------------------------------------------- validation

def check_call_values(values, call=None):
    """French messages per field for the settings of a call ({} when everything is fine)."""
    errors = {}
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = "Saisissez le titre de l'appel à projets."
    elif len(title) > 255:
        errors["title"] = "Le titre ne peut pas dépasser 255 caractères."

    slug = values.get("slug") or ""
    if not slug:
        errors["slug"] = "Saisissez l'adresse courte de l'appel, par exemple aap-2027."
    elif len(slug) > 80:
        errors["slug"] = "L'adresse courte ne peut pas dépasser 80 caractères."
    elif not SLUG_RE.match(slug):
        errors["slug"] = ("L'adresse courte ne peut contenir que des lettres minuscules sans accent, "
                          "des chiffres et des tirets, par exemple aap-2027.")
    elif slug_taken(slug, exclude_id=call.id if call is not None else None):
        errors["slug"] = "Cette adresse courte est déjà utilisée par un autre appel à projets."

    opens_at, closes_at = values.get("opens_at"), values.get("closes_at")
    if opens_at is None:
        errors["opens_at"] = "Saisissez la date d'ouverture."
    if closes_at is None:
        errors["closes_at"] = "Saisissez la date de clôture."
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        errors["closes_at"] = "La date de clôture doit être postérieure à la date d'ouverture."
    review_deadline = values.get("review_deadline")
    if review_deadline is not None and closes_at is not None and review_deadline <= closes_at:
        errors["review_deadline"] = "La date limite des évaluations doit être postérieure à la clôture des dépôts."

    budget = values.get("budget_cents") or 0
    minimum = values.get("min_amount_cents") or 0
    maximum = values.get("max_amount_cents") or 0
    if maximum and minimum > maximum:
        errors["min_amount_cents"] = "Le montant minimum ne peut pas dépasser le montant maximum."
    if budget and maximum > budget:
        errors["max_amount_cents"] = "Le montant maximum par dossier ne peut pas dépasser l'enveloppe."
    if budget and not maximum and minimum > budget:
        errors["min_amount_cents"] = "Le montant minimum ne peut pas dépasser l'enveloppe."

    years = values.get("years")
    if years not in YEARS_CHOICES:
        errors["years"] = "Choisissez une convention annuelle ou pluriannuelle (3 ans)."
    elif call is not None and years != call.years and has_applications(call):
        errors["years"] = ("La durée de la convention ne peut plus changer : des candidatures ont déjà "
                           "été commencées pour cet appel.")
    if years in YEARS_CHOICES and years > 1 and values.get("budget_per_year"):
        split = values["budget_per_year"]
        if len(split) != years:
            errors["budget_per_year"] = (f"Indiquez l'enveloppe de chacune des {years} années, "
                                         f"ou laissez-les vides pour répartir l'enveloppe à parts égales.")
        elif sum(split) != budget:
            errors["budget_per_year"] = (f"La somme des enveloppes annuelles ({format_euros(sum(split))}) doit "
                                         f"être égale à l'enveloppe ({format_euros(budget)}).")
    min_score = values.get("min_score")
    if min_score is not None and not 0 <= min_score <= 20:
        errors["min_score"] = "La note minimale est une note sur 20, entre 0 et 20."
    reviewers = values.get("reviewers_per_file")
    if reviewers is None or not 1 <= reviewers <= 10:
        errors["reviewers_per_file"] = "Le nombre d'évaluateurs par dossier va de 1 à 10."
    advance = values.get("advance_percent")
    if advance is None or not 0 <= advance <= 100:
        errors["advance_percent"] = "L'avance est un pourcentage entre 0 et 100."
    for key, (low, high, _default, message) in FOLLOWUP_SETTINGS.items():
        value = values.get(key)
        if key in values and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
            errors[key] = message
    errors.update(check_service_contact(values))
    errors.update({f"convention_texts.{key}": message
                   for key, message in check_convention_texts(values.get("convention_texts")).items()})
    return errors


def check_service_contact(values):
    """The service in charge (CRPA R112-5): each value within its length, the e-mail an address (an
    empty value is stored as the default: _normalise)."""
    errors = {}
    labels = {"service_name": "le nom du service", "service_address": "l'adresse postale du service",
              "service_email": "l'adresse électronique du service", "service_phone": "le téléphone du service"}
    for key, label in labels.items():
        if key not in values:
            continue
        text = (values.get(key) or "").strip()
        if len(text) > SERVICE_MAX[key]:
            errors[key] = f"{label[0].upper()}{label[1:]} ne peut pas dépasser {SERVICE_MAX[key]} caractères."
    email = (values.get("service_email") or "").strip()
    if email and "service_email" not in errors and not EMAIL_RE.match(email):
        errors["service_email"] = "Saisissez une adresse électronique valide, par exemple contact@exemple.gouv.fr."
    if len((values.get("aid_scheme_id") or "").strip()) > 120:
        errors["aid_scheme_id"] = "L'identifiant ne peut pas dépasser 120 caractères."
    return errors


def _normalise(values):
    values = {k: values.get(k) for k in CALL_FIELDS if k in values}
    for key in ("title", "slug", "description", *SERVICE_FIELDS, "aid_scheme_id"):
        if key in values:
            values[key] = (values[key] or "").strip()
    if "slug" in values:
        values["slug"] = values["slug"].lower()
    for key in SERVICE_FIELDS:  # (the receipt must always name the service: empty means the default)
        if key in values and not values[key]:
            values[key] = SERVICE_DEFAULTS[key]
    for key in ("budget_cents", "min_amount_cents", "max_amount_cents"):
        if key in values and values[key] is None:
            values[key] = 0
    if "budget_per_year" in values:
        split = [int(v) for v in values["budget_per_year"] or []]
        years = values.get("years") if values.get("years") in YEARS_CHOICES else 1
        if not split or years == 1:  # (one envelope, or none typed: split evenly)
            split = split_evenly(values.get("budget_cents"), years)
        values["budget_per_year"] = split
    return values


def split_evenly(total_cents, years):
    """The envelope split evenly between the years (the last cents on the first years)."""
    years = max(int(years or 1), 1)
    base, remainder = divmod(int(total_cents or 0), years)
    return [base + (1 if i < remainder else 0) for i in range(years)]


def _apply(call, values):
    for key, value in values.items():
        setattr(call, key, value)
    split = [int(v) for v in call.budget_per_year or []]
    if len(split) != max(call.years or 1, 1) or sum(split) != (call.budget_cents or 0):
        call.budget_per_year = split_evenly(call.budget_cents, call.years)
    if call.opens_at is not None:
        call.year = timeutil.to_paris(call.opens_at).year


# ---------------------------------------------------------------- changes

def create_call(actor, **values):
    """A new draft call with the « 1 jeune 1 mentor » criteria and documents."""
    defaults = dict(description="", review_deadline=None, budget_cents=0, min_amount_cents=0,
                    max_amount_cents=0, years=1, reviewers_per_file=2, avoid_same_region=True,
                    hide_other_reviews=True, advance_percent=50, min_score=10, budget_per_year=[],
                    grey_zone_draw=False, **SERVICE_DEFAULTS,
                    **{key: setting[2] for key, setting in FOLLOWUP_SETTINGS.items()})
    values = _normalise({**defaults, **values})
    errors = check_call_values(values)
    if errors:
        raise CallError("L'appel à projets n'a pas pu être créé : corrigez les erreurs signalées.", errors)
    call = Call(status=CALL_DRAFT)
    _apply(call, values)
    apply_template(call)
    db.session.add(call)
    db.session.flush()
    record("call_created", actor, call_id=call.id, slug=call.slug)
    db.session.commit()
    return call


def update_call(call, actor, **values):
    """Change the settings of a call (any of CALL_FIELDS)."""
    current = {k: getattr(call, k) for k in CALL_FIELDS}
    current.update({k: current[k] or SERVICE_DEFAULTS[k] for k in SERVICE_FIELDS})  # (empty: the default)
    values = _normalise({**current, **values})
    errors = check_call_values(values, call=call)
    if errors:
        raise CallError("Les modifications n'ont pas été enregistrées : corrigez les erreurs signalées.", errors)
    changed = sorted(k for k in CALL_FIELDS if values[k] != current[k])
    _apply(call, values)
    if changed:
        record("call_updated", actor, call_id=call.id, fields=changed)
    db.session.commit()
    return call


def _check_weight(weight):
    try:
        weight = Decimal(str(weight))
    except (InvalidOperation, ValueError):
        return None, "Le poids doit être un nombre, par exemple 1 ou 1,5."
    if not weight.is_finite() or weight <= 0:
        return None, "Le poids doit être supérieur à 0."
    if weight > MAX_WEIGHT:
        return None, "Le poids ne peut pas dépasser 100."
    if weight != weight.quantize(Decimal("0.01")):
        return None, "Le poids a au plus deux décimales."
    return weight, None


DESCRIPTOR_LINE = re.compile(r"\s*(\d{1,2})\s*[:=—–-]\s*(.*)")
DESCRIPTOR_MAX = 500


def parse_descriptors(text, scale_max):
    """« 0 : Absent », one line per score, into {"0": "Absent"}: what each score of the criterion
    means, shown to reviewers beside the score. Levels outside 0..scale_max, twice the same
    level or a line without its level are refused (CallError, French)."""
    descriptors = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        match = DESCRIPTOR_LINE.fullmatch(line)
        if match is None or not match.group(2).strip():
            raise CallError(f"Écrivez une note par ligne, suivie de sa signification, par exemple « 3 : Solide » "
                            f"(ligne « {line.strip()[:60]} »).")
        level, meaning = int(match.group(1)), match.group(2).strip()
        if scale_max is not None and level > scale_max:
            raise CallError(f"La note {level} dépasse la note maximale du critère ({scale_max}).")
        if str(level) in descriptors:
            raise CallError(f"La note {level} est décrite deux fois.")
        if len(meaning) > DESCRIPTOR_MAX:
            raise CallError(f"La signification de la note {level} ne peut pas dépasser {DESCRIPTOR_MAX} caractères.")
        descriptors[str(level)] = meaning
    return dict(sorted(descriptors.items(), key=lambda item: int(item[0])))


def format_descriptors(descriptors):
    """{"0": "Absent", ...} as the criteria editor shows it: « 0 : Absent », one line per score."""
    return "\n".join(f"{level} : {text}" for level, text in
                     sorted((descriptors or {}).items(), key=lambda item: int(item[0])))


def set_criteria(call, items, actor):
    """Replace the call's criteria by `items`, in order.

    Each item: {"id": existing id or None, "label", "description", "weight", "scale_max",
    "descriptors" (optional: {"level": meaning}, levels of the scale)}.
    Existing criteria missing from `items` are removed (with the scores of draft reviews).
    Refused (CriteriaLocked) once a review of the call has been submitted.
    """
    if criteria_locked(call):
        raise CriteriaLocked("Les critères sont verrouillés : au moins une évaluation a déjà été "
                             "envoyée pour cet appel à projets.")
    errors = {}
    cleaned = []
    existing = {c.id: c for c in call.criteria}
    for index, item in enumerate(items):
        label = (item.get("label") or "").strip()
        if not label:
            errors[f"{index}.label"] = "Saisissez l'intitulé du critère."
        elif len(label) > 200:
            errors[f"{index}.label"] = "L'intitulé ne peut pas dépasser 200 caractères."
        weight, message = _check_weight(item.get("weight"))
        if message:
            errors[f"{index}.weight"] = message
        scale = item.get("scale_max")
        if not isinstance(scale, int) or not SCALE_MIN <= scale <= SCALE_MAX:
            errors[f"{index}.scale_max"] = f"La note maximale va de {SCALE_MIN} à {SCALE_MAX}."
        descriptors = {str(k): str(v).strip() for k, v in (item.get("descriptors") or {}).items()}
        if isinstance(scale, int) and any(not k.isdigit() or int(k) > scale for k in descriptors):
            errors[f"{index}.descriptors"] = ("La signification d'une note hors de l'échelle ne peut pas être "
                                              "enregistrée.")
        criterion_id = item.get("id")
        if criterion_id is not None and criterion_id not in existing:
            errors[f"{index}.id"] = "Ce critère n'appartient pas à cet appel à projets."
        cleaned.append((criterion_id, label, (item.get("description") or "").strip(), weight, scale, descriptors))
    if errors:
        raise CallError("Les critères n'ont pas été enregistrés : corrigez les erreurs signalées.", errors)

    kept_ids = {c[0] for c in cleaned if c[0] is not None}
    removed = [c for cid, c in existing.items() if cid not in kept_ids]
    if removed:
        removed_ids = [c.id for c in removed]
        db.session.execute(db.delete(Score).where(Score.criterion_id.in_(removed_ids)))
    criteria = []
    for position, (criterion_id, label, description, weight, scale, descriptors) in enumerate(cleaned):
        criterion = existing[criterion_id] if criterion_id is not None else Criterion()
        criterion.position = position
        criterion.label = label
        criterion.description = description
        criterion.weight = weight
        criterion.scale_max = scale
        criterion.descriptors = descriptors
        criteria.append(criterion)
    call.criteria = criteria  # delete-orphan removes the others
    record("call_criteria_updated", actor, call_id=call.id,
           criteria=[{"label": c.label, "weight": str(c.weight), "scale_max": c.scale_max,
                      "descriptors": c.descriptors} for c in criteria],
           removed=[c.label for c in removed])
    db.session.commit()
    return criteria


def _code_for(label, taken):
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")[:32] or "piece"
    code, n = base, 2
    while code in taken:
        code = f"{base}_{n}"
        n += 1
    taken.add(code)
    return code


def set_pieces(call, items, actor):
    """Replace the call's required documents by `items`, in order.

    Each item: {"id": existing id or None, "label", "mandatory": bool, "formats": [kinds],
    "reserved": bool (« réservé à l'instruction »: never shown to reviewers), or None or absent
    to keep an existing document's (a new one is then visible to reviewers)}.
    A document for which files were already uploaded cannot be removed; its visibility can
    change at any time (it is checked at each listing and download).
    """
    from ..models import Attachment

    errors = {}
    cleaned = []
    existing = {d.id: d for d in call.pieces}
    for index, item in enumerate(items):
        label = (item.get("label") or "").strip()
        if not label:
            errors[f"{index}.label"] = "Saisissez l'intitulé de la pièce."
        elif len(label) > 200:
            errors[f"{index}.label"] = "L'intitulé ne peut pas dépasser 200 caractères."
        formats = [f for f in FORMATS if f in set(item.get("formats") or ())]
        unknown = set(item.get("formats") or ()) - set(FORMATS)
        if unknown or not formats:
            errors[f"{index}.formats"] = "Cochez au moins un format accepté."
        document_id = item.get("id")
        if document_id is not None and document_id not in existing:
            errors[f"{index}.id"] = "Cette pièce n'appartient pas à cet appel à projets."
        reserved = item.get("reserved")
        if reserved not in (None, True, False):
            errors[f"{index}.reserved"] = ("Choisissez qui lit cette pièce : les évaluateurs ou l'instruction "
                                           "seulement.")
        cleaned.append((document_id, label, bool(item.get("mandatory")), formats, reserved))
    if errors:
        raise CallError("Les pièces demandées n'ont pas été enregistrées : corrigez les erreurs signalées.", errors)

    kept_ids = {d[0] for d in cleaned if d[0] is not None}
    removed = [d for did, d in existing.items() if did not in kept_ids]
    if removed:
        used = db.session.scalars(
            db.select(RequiredPiece.label).join(Attachment, Attachment.document_id == RequiredPiece.id)
            .where(RequiredPiece.id.in_([d.id for d in removed])).distinct()).all()
        if used:
            raise CallError("Des fichiers ont déjà été déposés pour la pièce « %s » : elle ne peut plus être "
                            "supprimée." % "», «".join(sorted(used)))
    taken = {d.code for d in call.pieces if d.id in kept_ids}
    documents = []
    for position, (document_id, label, mandatory, formats, reserved) in enumerate(cleaned):
        document = existing[document_id] if document_id is not None else RequiredPiece(
            code=_code_for(label, taken), reserved=False)
        document.position = position
        document.label = label
        document.mandatory = mandatory
        document.formats = ",".join(formats)
        if reserved is not None:
            document.reserved = reserved
        documents.append(document)
    call.pieces = documents
    record("call_documents_updated", actor, call_id=call.id,
           documents=[{"label": d.label, "mandatory": d.mandatory, "formats": d.formats, "reserved": d.reserved}
                      for d in documents],
           removed=[d.label for d in removed])
    db.session.commit()
    return documents


def publish_problems(call):
    """What prevents publishing the call (French sentences; empty when it can be published)."""
    problems = []
    if call.status != CALL_DRAFT:
        problems.append("Seul un appel à projets en brouillon peut être publié.")
    if not call.criteria:
        problems.append("Ajoutez au moins un critère d'évaluation.")
    if call.opens_at is None or call.closes_at is None or call.closes_at <= call.opens_at:
        problems.append("La date de clôture doit être postérieure à la date d'ouverture.")
    if not call.budget_cents or call.budget_cents <= 0:
        problems.append("Indiquez l'enveloppe budgétaire de l'appel.")
    return problems


def publish_call(call, actor, now=None):
    call = lock(call)
    problems = publish_problems(call)
    if problems:
        raise CallError("L'appel à projets ne peut pas être publié : " + " ".join(problems))
    change_state(call, CALL_PUBLISHED, actor, action="call_published")
    call.published_at = now or timeutil.now()
    db.session.commit()
    return call


def close_call(call, actor):
    call = lock(call)
    if call.status != CALL_PUBLISHED:
        raise CallError("Seul un appel à projets publié peut être clos.")
    change_state(call, CALL_CLOSED, actor, action="call_closed")
    db.session.commit()
    return call
