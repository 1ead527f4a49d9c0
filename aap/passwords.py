"""The password rule, in one place.

Every password chosen on AAP goes through check_password() (by way of
validators.check_password_strength): sign-up, password reset, team invitations, member
invitations and the create-user command. It refuses, with a French message saying why:

- fewer than 12 or more than 200 characters;
- one character repeated, a short pattern repeated (« abcabcabcabc ») or too few different
  characters;
- runs along the alphabet, the digits or a keyboard row, AZERTY or QWERTY, either way
  (« 123456789012 », « azertyuiopqs », « qwerty123456 »);
- the local part of the person's e-mail address or their name (accents, case and punctuation
  ignored);
- what zxcvbn, the password strength estimator (its list of the 30,000 most common passwords,
  dictionaries of words and names, dates, l33t substitutions, keyboard patterns), guesses in
  fewer than 10^10 tries: « motdepasse2024 », « Bonjour2024! », « P@ssw0rd2024! ».
"""
import unicodedata

MIN_LENGTH = 12
MAX_LENGTH = 200
MIN_DISTINCT = 5
MIN_GUESSES_LOG10 = 10  # zxcvbn's score 4: « very unguessable »
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; what lies beyond adds strength anyway
PERSONAL_MIN = 4  # shorter name or address fragments are not looked for

HINT = ("Au moins 12 caractères. Évitez les mots de passe courants, les suites (123456, azerty), "
        "les répétitions, votre nom et votre adresse e-mail : une phrase de plusieurs mots sans lien "
        "entre eux est facile à retenir et difficile à deviner.")

TOO_SHORT = f"Le mot de passe doit comporter au moins {MIN_LENGTH} caractères."
TOO_LONG = f"Le mot de passe ne peut pas dépasser {MAX_LENGTH} caractères."
ONE_CHARACTER = "Le mot de passe ne peut pas être un seul caractère répété : choisissez-en un autre."
REPEATED = ("Le mot de passe ne peut pas être un motif répété (comme « abcabcabcabc ») ou compter "
            "si peu de caractères différents : choisissez-en un autre.")
SEQUENCE = ("Le mot de passe ne peut pas être une suite de caractères de l'alphabet, de chiffres ou du "
            "clavier (comme « 123456789 » ou « azertyuiop ») : choisissez-en un autre.")
PERSONAL = ("Le mot de passe ne doit contenir ni votre nom ni votre adresse e-mail : "
            "choisissez-en un autre.")
COMMON = ("Ce mot de passe fait partie des mots de passe les plus courants, ou en est trop proche : "
          "choisissez-en un autre, par exemple une phrase de plusieurs mots sans lien entre eux.")
GUESSABLE = ("Ce mot de passe est trop facile à deviner (mots, prénoms ou dates courants, suites, "
             "répétitions) : allongez-le ou choisissez une phrase de plusieurs mots sans lien entre eux.")

# Runs that people type: the alphabet, the digits (9 then 0 then 1…) and the keyboard rows,
# each row followed by the next one as a finger sweeps them.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "012345678901",
    "azertyuiopqsdfghjklmwxcvbn",  # AZERTY
    "qwertyuiopasdfghjklzxcvbnm",  # QWERTY
    "qwertzuiopasdfghjklyxcvbnm",  # QWERTZ
)
_NEIGHBOURS = frozenset(
    pair for sequence in _SEQUENCES for a, b in zip(sequence, sequence[1:]) for pair in ((a, b), (b, a)))


def _plain(text):
    """Lower case, without accents nor anything but letters and digits."""
    decomposed = unicodedata.normalize("NFKD", text or "").lower()
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def _is_repeated_pattern(text):
    """« abcabcabcabc », « 121212121212 »: a unit of at most half the length, repeated."""
    length = len(text)
    for size in range(1, length // 2 + 1):
        unit = text[:size]
        if (unit * (length // size + 1))[:length] == text:
            return True
    return False


def _is_sequence(text):
    """Mostly runs along _SEQUENCES: at most one break every six characters."""
    if len(text) < 6:
        return False
    breaks = sum(1 for a, b in zip(text, text[1:]) if a != b and (a, b) not in _NEIGHBOURS)
    return breaks <= len(text) // 6


def _fragments(email, names):
    """The personal strings a password must not contain, each in _plain form."""
    pieces = set()
    local = (email or "").rpartition("@")[0] if "@" in (email or "") else (email or "")
    candidates = [email or "", local, *local.replace("+", ".").replace("-", ".").replace("_", ".").split(".")]
    for name in names or ():
        candidates.append(name or "")
        candidates.extend((name or "").replace("-", " ").replace("'", " ").split())
    for candidate in candidates:
        plain = _plain(candidate)
        if len(plain) >= PERSONAL_MIN:
            pieces.add(plain)
    return pieces


def _zxcvbn_refusal(password, fragments):
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=sorted(fragments))
    if result["guesses_log10"] >= MIN_GUESSES_LOG10:
        return None
    for match in result["sequence"]:
        if match.get("pattern") == "dictionary" and match.get("dictionary_name") == "passwords" \
                and len(match["token"]) * 2 >= len(password):
            return COMMON
    return GUESSABLE


def check_password(password, email=None, names=()):
    """Raise ValueError with a French message when `password` is too weak for the person whose
    e-mail address and names are given (names: first name, last name… any may be empty)."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise ValueError(TOO_SHORT)
    if len(password) > MAX_LENGTH:
        raise ValueError(TOO_LONG)
    lowered = password.lower()
    if len(set(lowered)) == 1:
        raise ValueError(ONE_CHARACTER)
    if _is_repeated_pattern(lowered) or len(set(lowered)) < MIN_DISTINCT:
        raise ValueError(REPEATED)
    plain = _plain(password)
    if _is_sequence(plain):
        raise ValueError(SEQUENCE)
    fragments = _fragments(email, names)
    if any(fragment in plain for fragment in fragments):
        raise ValueError(PERSONAL)
    refusal = _zxcvbn_refusal(password, fragments)
    if refusal:
        raise ValueError(refusal)
