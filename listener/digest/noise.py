"""Words that are never a theme, beyond the `stop-words` lists (listener.text.stop_words): what people write in
any week about anything — greetings, thanks, platform boilerplate ("Antwort an @…", "reply", "edited"), generic
verbs, time words ("heute", "gestern"), fillers and abbreviations ("etc", "usw", "lol"), and bare praise or blame
("tollen", "great"), which the sentiment figures already count. A theme names *what* people talk about.

The lists are written as people write and folded here as `listener.text.words` folds (umlauts, ß, case), so
"Grüße" and "gruesse" are one entry. German inflections are listed where Snowball does not merge them
("kam", "kommt"); the themes' stemmer catches the rest.
"""

from __future__ import annotations

from functools import lru_cache

from listener.text import stop_words, words

_GERMAN = """
    hallo hi hey moin servus tschüss ciao gruß grüße gruss lg vg mfg liebe lieben lieber viele vielen dank danke
    bitte gerne gern sorry entschuldigung ok okay ja jo nee na naja ach oh ah aha haha hahaha lol xd omg
    antwort antworten antwortet geantwortet beantwortet zitat zitieren zitiert beitrag beiträge post posts
    gepostet posten kommentar kommentare kommentiert kommentieren geteilt teilen link links mehr anzeigen lesen
    weiterlesen thread bearbeitet edit quelle via rt retweet folgen follower foto bild video mehr
    kommen kommt kam kamen gekommen komme gehen geht ging gingen gegangen gehe machen macht machte gemacht mache
    sagen sagt sagte gesagt sage geben gibt gab gegeben sehen sieht sah gesehen sehe finden findet fand gefunden
    finde wissen weiß weiss wusste gewusst denken denkt dachte gedacht denke glauben glaube glaubt lassen lässt
    ließ gelassen stehen steht stand bleiben bleibt blieb geblieben nehmen nimmt nahm genommen bringen bringt
    brachte gebracht halten hält hielt heißen heißt hieß zeigen zeigt brauchen braucht brauche bekommen bekommt
    bekam kriegen kriegt gekriegt tun tut tat getan möchte möchten möchtest mag magst mochte hätte hätten wäre
    wären würde würden könnte könnten dürfen darf durfte müsste sollten wollten gibts geworden worden wurde wurden
    ist's hab's geht's
    heute gestern morgen vorgestern übermorgen jetzt gerade grad eben bald später früher früh spät immer nie
    niemals oft selten manchmal schon noch wieder mal mals einmal zweimal erst zuerst endlich seit seitdem
    bisher inzwischen mittlerweile neulich damals tag tage tagen woche wochen wochenende monat monate monaten
    jahr jahre jahren stunde stunden minute minuten sekunde uhr zeit zeiten montag dienstag mittwoch donnerstag
    freitag samstag sonntag abend abends morgens mittag nacht nachts
    wirklich einfach echt ganz halt eben eigentlich natürlich leider vielleicht eher ziemlich total mega voll
    etwa etwas irgendwie irgendwas irgendwann irgendwo überhaupt trotzdem dennoch sogar wohl bestimmt sicher
    genau gleich also quasi sowieso eh ja schon mehrere mehr weniger meisten meist ganze ganzen ganzer
    beim vom zum zur ins ans am im aufs übers unterm fürs hinterm vors unters
    etc usw bzw zb z.b ca evtl ggf inkl bspw sog vllt vlt imho btw zurück hin her
    euro euros eur cent prozent km meter stück mal
    gut gute guten guter gutes besser beste besten toll tolle tollen toller tolles super klasse prima top
    spitze genial nett nette netten schön schöne schönen schlecht schlechte schlechten schlechter schlimm
    schlimmer mies miese furchtbar schrecklich katastrophal großartig klasse wunderbar perfekt okay
    cool krass geil blöd dumm doof nervig ärgerlich neu neue neuen neuer neues alt alte alten groß große großen
    klein kleine kleinen lang lange langen richtig falsch viel viele wenig wenige andere anderen ander
    leute menschen mensch mann männer frau frauen kind kinder typ typen sache sachen ding dinge problem probleme
    frage fragen grund art weise fall beispiel ende anfang hälfte teil rest
"""

_ENGLISH = """
    hi hello hey thanks thank thx ty cheers regards dear please pls sorry ok okay yes yeah yep nope no oh ah
    haha lol lmao rofl omg wow btw imo imho tbh fyi idk smh etc eg ie vs
    euro euros eur cents dollar dollars percent per cent km miles
    reply replies replied replying comment comments commented post posts posted posting edit edited
    share shared link links thread read more show via rt retweet follow follower photo pic video quote
    get gets got gotten getting go goes went gone going make makes made making say says said saying know knows
    knew known think thinks thought want wants wanted need needs needed see sees saw seen look looks looked
    looking come comes came coming take takes took taken use uses used using try tries tried trying tell told
    give gives gave given find found keep kept let lets put seem seems seemed feel feels felt guess
    today yesterday tomorrow tonight now right still ever never always often sometimes already yet soon later
    early late again since day days week weeks weekend month months year years hour hours minute minutes time
    times morning evening night monday tuesday wednesday thursday friday saturday sunday
    really actually literally basically totally pretty quite even just maybe perhaps probably definitely
    anyway though also lot lots bit thing things stuff something anything everything nothing someone anyone
    everyone people person guy guys man men woman women kid kids folks way kind sort
    good great nice awesome amazing love loved loves like liked likes best better fine cool bad terrible awful
    horrible worst worse hate hated sucks poor new old big small little long many much
    problem problems issue issues question questions
"""


@lru_cache(maxsize=4)
def never_themes(lang: str) -> frozenset[str]:
    """The stop words of `lang` and the lists above (both languages: posts mix them), folded."""
    extra = {w for text in (_GERMAN, _ENGLISH) for entry in text.split() for w in words(entry)}
    return stop_words(lang) | frozenset(extra)
