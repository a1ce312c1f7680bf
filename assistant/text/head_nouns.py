"""The answer type a "which X …" / "what is the X …" question asks for, read off its head noun X.

"Which judge …" wants a person, "which hotel …" a place, "what fee …" money, "what is the new cap …" a
number; an unknown X after "which" still asks to pick a named thing. General English word lists, not tuned to a
corpus: roles people hold, kinds of places, kinds of amounts.
"""

from __future__ import annotations

import re

PERSON_NOUNS = set("""
person man woman men women boy girl child son daughter wife husband father mother brother sister widow partner
friend rival opponent colleague teammate team-mate deputy founder co-founder creator inventor owner co-owner heir
minister secretary chancellor premier president vice-president chairman chairwoman chairperson co-chairman chair
chief boss executive director manager head leader official spokesman spokeswoman spokesperson representative
governor mayor senator congressman councillor mp peer lord lady king queen prince princess emperor monarch
ambassador envoy diplomat commissioner politician candidate activist campaigner general commander officer soldier
judge magistrate lawyer barrister solicitor prosecutor attorney juror witness victim suspect defendant
doctor surgeon scientist researcher professor academic economist analyst expert engineer architect designer
writer author novelist poet playwright screenwriter journalist reporter editor columnist critic presenter host
broadcaster comedian comic actor actress star singer songwriter musician guitarist bassist drummer rapper dj
producer filmmaker film-maker composer conductor dancer artist painter photographer model chef
player footballer striker midfielder defender goalkeeper keeper winger forward captain skipper coach trainer
athlete runner sprinter swimmer cyclist boxer golfer jockey driver rider bowler batsman umpire referee
champion winner runner-up seed challenger veteran legend stalwart newcomer rookie signing
investor shareholder buyer seller trader banker businessman businesswoman tycoon entrepreneur billionaire
employee worker student pupil teacher fan member
""".split())

PLACE_NOUNS = set("""
country nation state city town village capital county province region district suburb area island continent
place venue location site stadium ground arena hotel restaurant pub club-house school college university campus
hospital prison jail airport station port harbour street road square bridge footbridge building tower palace
church cathedral mosque temple museum gallery theatre cinema studio factory plant mine estate park zoo
""".split())

MONEY_NOUNS = set("""
fee fees cost costs price prices fine fines salary wage wages bonus payout compensation damages budget bill
bid offer sum payment pay revenue revenues turnover profit profits loss losses earnings debt debts funding grant
investment spending takeover valuation
""".split())

NUMBER_NOUNS = set("""
number amount figure total level cap limit ceiling rate percentage proportion share stake fraction ratio
score scoreline tally margin majority ranking rank position attendance population crowd capacity age
height length distance speed weight temperature size count time
most least maximum minimum highest lowest rise increase cut fall drop growth decline gain
""".split())

NAME_NOUNS = set("""
company firm business brand label product model film movie book novel album song single track show series programme
play musical band group act team club side party union court body agency organisation organization institute
charity bank airline carrier operator retailer chain network channel station newspaper magazine paper website site
publisher studio competition tournament championship cup league event award prize title format standard project
scheme plan policy law bill treaty deal campaign system technology service software game console device drug word
language currency operation constituency seat name title nickname
""".split())

DATE_NOUNS = set("year years month months day days date dates decade season era century".split())

# Words that end the noun phrase after "which"/"what": verbs that open the clause, prepositions.
_PHRASE_END = set("""
is was are were be been will would can could should did does do has have had may might must
of for in on at to by with from into about over under after before during as than that who which whose
when where why how while if
""".split())

# (head-noun set, answer type), in the order a phrase is checked.
_TYPES = (
    (DATE_NOUNS, "date"),
    (PERSON_NOUNS, "person"),
    (PLACE_NOUNS, "place"),
    (MONEY_NOUNS, "money"),
    (NUMBER_NOUNS, "number"),
    (NAME_NOUNS, "name"),
)

_WHICH = re.compile(
    r"\b(?:which|what|who(?=\s+(?:is|was|are|were|will be)\s))\s+((?:is|was|are|were|will be)\s+)?(?:the\s+|a\s+|"
    r"an\s+)?(.*)",
    re.IGNORECASE,
)
_CALLED = re.compile(r"\b(?:called|named|known as)\s*\??$", re.IGNORECASE)
_SOLD_FOR = re.compile(
    r"\bwhat\b.*(?:\b(?:sell|sold|fetch|fetched|go|went|auctioned)\s+for\b|\bcosts?\b|"
    r"\b(?:cost|pay|paid|charge|charged|earn|earned|raise|raised)\s*\??$)",
    re.IGNORECASE,
)


def head_phrase(question: str) -> list[str]:
    """The words of the noun phrase after "which"/"what (is the)", up to the first verb or preposition.

    "Which MP's bill …" asks for the MP: the phrase ends at a possessive. "What was Dibaba's winning
    time …" asks for the time: after "what was", a possessive owner is skipped. "Which car company holds
    a stake …": a word like "holds" or "announced" after a known noun is the verb, and ends it.
    """
    match = _WHICH.search(question)
    if not match:
        return []
    after_copula = bool(match.group(1))
    tokens = re.findall(r"[A-Za-z][A-Za-z'’\-]*", match.group(2))[:8]
    phrase: list[str] = []
    for index, token in enumerate(tokens):
        word = re.sub(r"['’]s?$", "", token.lower())
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if word in ("sort", "kind", "type") and following == "of":
            continue
        if word == "of" and phrase and phrase[-1] in ("sort", "kind", "type"):
            continue
        # Institute of Technology
        proper_name_of = word == "of" and following[:1].isupper() and index > 0 and tokens[index - 1][0].isupper()
        if token[0].islower() and word in _PHRASE_END and not proper_name_of:
            break
        if (
            token[0].islower()
            and phrase
            and _noun_type(phrase[-1])
            and _noun_type(word) is None
            and re.search(r"(?:[^s]s|ed)$", word)
        ):
            break
        if word != token.lower():  # possessive
            if after_copula:
                phrase = []
                continue
            phrase.append(word)
            break
        phrase.append(word)
    return phrase


def _noun_type(word: str) -> str | None:
    for nouns, answer_type in _TYPES:
        if word in nouns or (word.endswith("s") and word[:-1] in nouns):
            return answer_type
    if re.search(r"[a-z]{3}(?:ist|ian)s?$", word):  # strategist, politician, historian
        return "person"
    return None


def head_type(question: str, phrase: list[str] | None = None) -> str | None:
    """date / person / place / money / number from the head noun; "name" for another "which X"; None when unsure.

    The last known noun of the phrase is its head, as in English compounds: "Saudi minister", "film
    producer", "Manchester City striker", "winning time". A head noun of a known kind outranks a verb of paying
    later in the question: "On what date did they say it would cost £3m?" asks for a date.
    """
    if _CALLED.search(question):
        return "name"
    if phrase is None:
        phrase = head_phrase(question)
    known = [t for t in map(_noun_type, reversed(phrase)) if t]  # each word's kind, looked up once
    typed = next((t for t in known if t != "name"), None)
    if typed:
        return typed
    if _SOLD_FOR.search(question):
        return "money"
    if known:
        return "name"
    if phrase and re.search(r"\bwhich\s", question, re.IGNORECASE):
        return "name"
    return None
