"""The call's help page for applicants: the questions staff answer once (« Questions fréquentes »,
Markdown written in the call's form, Call.faq) and the service to contact (aap/calls/contact.py,
the same settings as the receipt's). A call whose FAQ was never written shows DEFAULT_FAQ, the
answers right for the 2025 call; this is the only place that text is written."""

import re

from markupsafe import Markup

FAQ_MAX = 30_000

DEFAULT_FAQ = """\
## Qui peut candidater ?

Les associations et les structures d'intérêt général qui proposent du mentorat à des jeunes de 5 à 30 ans,
identifiées par un numéro SIRET. Une association dépose un seul dossier par appel à projets.

## Comment déposer mon dossier ?

Créez un compte, renseignez l'identité de votre association (SIRET, RNA, adresse, représentant légal,
coordonnées bancaires), puis remplissez les six sections du dossier. Votre brouillon est enregistré à chaque
étape. Quand tout est complet, déposez le dossier : vous recevez aussitôt un récépissé de dépôt daté.

## Jusqu'à quand puis-je déposer ?

Jusqu'à la date et l'heure de clôture indiquées sur la page de l'appel (heure de Paris). Après cette heure, le
service refuse tout dépôt : n'attendez pas le dernier moment. Un dossier incomplet ou déposé après la clôture
n'est pas recevable.

## Puis-je modifier mon dossier après l'avoir déposé ?

Non : le dossier déposé est figé. Si l'équipe de la DJEPVA vous demande des pièces ou des compléments, les
parties concernées sont rouvertes jusqu'à la date limite indiquée dans la demande.

## Quelles pièces joindre ?

La liste des pièces demandées figure dans la section « Pièces jointes » du dossier : statuts, liste des
dirigeants, RIB, budget prévisionnel, derniers comptes approuvés et rapport d'activité. Formats acceptés : PDF,
images, documents bureautiques ; 10 Mo au plus par fichier.

## Quand connaîtrai-je la décision ?

Après l'évaluation des dossiers par le comité de sélection. La décision vous est envoyée par courriel et
figure sur la page de votre dossier ; les lauréats reçoivent ensuite leur convention.

## J'ai une autre question

Écrivez-nous depuis la messagerie de votre dossier, ou contactez le service aux coordonnées ci-dessous.
"""


def faq_text(call):
    """The call's FAQ, or the default when staff never wrote one."""
    return (getattr(call, "faq", "") or "").strip() or DEFAULT_FAQ


def faq_html(call):
    """The FAQ as sanitised HTML (calls.services.render_markdown), its headings one level down: the
    page's « Questions fréquentes » is their h2."""
    from .services import render_markdown
    html = str(render_markdown(faq_text(call)))
    return Markup(re.sub(r"<(/?)h([2-5])\b", lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", html))
