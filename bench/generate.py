"""A seeded corpus of realistic-length sales calls for `make bench`: about 45 minutes and
~600 utterances each, salesperson and customer alternating, in the JSON and timestamped-text
formats real exports use. Sentences are assembled from slots (people, products, numbers,
days, fillers), so few utterances repeat and the encoder's de-duplication cannot flatter the
numbers; the share of repeated salesperson texts is reported by the bench.

All phrases here were written for this project."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from pathlib import Path

SALESPEOPLE = ["Dana Whitfield", "Marcus Bell", "Priya Raman", "Tom Kessler", "Ana Souza", "Li Wei", "Kofi Mensah", "Elena Petrova"]
CUSTOMERS = ["Ray Castillo", "Ingrid Holm", "Lena Brandt", "Carla Diaz", "Sam Whitcombe", "Helen Achterberg", "Grace Okafor",
             "Omar Haddad", "Yuki Mori", "Bea Lindqvist", "Ivan Petrov"]
ACCOUNTS = [
    "Harbor Freight Lines", "Brightsmile Dental", "Marlowe Hotel", "Calder Precision", "Pinecrest Staffing",
    "Ridgeback Cold Storage", "Northgate Clinics", "Bluewater Logistics", "Oakline Schools", "Summit Roofing",
    "Keystone Credit Union", "Lumen Bakery", "Atlas Machining", "Cedar Vet Group", "Harper Law", "Vega Retail",
    "Orchard Pharmacy", "Ironside Security", "Meadow Farms", "Beacon Hospice",
]
PRODUCTS = ["the scheduling module", "the battery system", "the fleet tracker", "the billing add-on", "the analytics tier",
            "the backup service", "the access control kit", "the inventory sync", "the payroll bundle", "the phone system"]
THINGS = ["the dispatch board", "the front desk", "the night shift", "the loading dock", "the billing team", "the warehouse",
          "the clinic in Westfield", "the second site", "the sales floor", "the returns desk", "the overnight crew"]
DOCS = ["the revised quote", "the contract draft", "the integration guide", "the pricing sheet", "the case study",
        "the site survey", "the warranty terms", "the rollout plan", "the security questionnaire", "the reference list"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "tomorrow", "end of day", "next Tuesday", "the fourteenth",
        "this afternoon", "Thursday morning", "the end of the week"]
PEOPLE = ["our engineer", "my manager", "the install lead", "our finance person", "the product team", "support",
          "our solutions architect", "the account director"]
OPENERS = ["", "", "", "so ", "okay so ", "yeah ", "right, ", "honestly ", "look, ", "and ", "um ", "well "]
FILLERS = ["", "", "", " you know", " I mean", " basically", " kind of", " more or less"]

SALES = {
    "small_talk": [
        "How was the drive in from {place} this morning?",
        "Did the weather hold up for you over the weekend at {place}?",
        "I saw {account} was in the paper last week, congratulations on the new site.",
        "Thanks for making time, I know {day} is usually busy for {thing}.",
        "Sorry, my screen froze for a second there, can you hear me now?",
    ],
    "discovery": [
        "What happens at {thing} when the system goes down for {n} minutes?",
        "How are you handling {task} today, and who owns it?",
        "Walk me through what a normal {day} looks like for {thing}.",
        "What would need to be true for this to be worth it for {account}?",
        "Who else would need to sign off before {thing} changes anything?",
        "When you say it's slow, what does that cost you in a week?",
        "Which part of {task} takes your team the most time right now?",
    ],
    "commitment": [
        "I'll send {doc} by {day} and copy {person} on it.",
        "I will get {person} on a call with you {day} to go through {task}.",
        "Let me put together {doc} for {thing} and have it in your inbox by {day}.",
        "I'll check the {n} unit pricing with {person} and email you {day}.",
        "By {day} you'll have {doc} from me, with the numbers for {thing} broken out.",
    ],
    "honest": [
        "I don't know the answer to that for {thing}, and I'd rather check than guess.",
        "That's a good question about {task}; I'm not sure, let me ask {person}.",
        "I honestly can't tell you the lead time for {n} units today, it changes month to month.",
        "I haven't seen that setup with {product} before, so I won't promise it works.",
    ],
    "pretending": [
        "Oh, {product} definitely works with that, no question at all.",
        "It'll pay for itself in {n} months, easy, every customer sees that.",
        "The permit takes two weeks, tops, I've never seen it take longer.",
        "Yes, that's fully covered, you won't pay a cent for {task}.",
    ],
    "reframing": [
        "So the real issue isn't {product}, it's that {thing} stops every time {task} backs up.",
        "It sounds like the cost isn't the software, it's the {n} hours a week your team loses on {task}.",
        "So what you're describing is less a pricing problem and more a capacity problem at {thing}.",
    ],
    "manipulation": [
        "This price is only good until {day}, after that it goes up {n} percent.",
        "We only have {n} install slots left this quarter, so I'd lock one in now.",
        "Everybody in your area has already switched, you don't want to be the last one.",
        "Honestly, a smart team like yours doesn't need to overthink this.",
        "If something happens to {thing} and you didn't act, that's going to be on you.",
        "Don't worry about that, nobody ever has problems with {task}.",
    ],
    "ownership": [
        "You're right, that was my mistake on {doc}; I'll send a corrected one by {day}.",
        "That's on us, we missed the {day} delivery, and I've credited the {n} dollars to your account.",
        "I got the numbers wrong for {thing}, I'm sorry, here's what I'm doing to fix it.",
    ],
    "blame": [
        "That wasn't really our fault, {person} never passed it on to me.",
        "The delay came from your side, the paperwork for {thing} came in late.",
        "The system just does what it's configured to do, so that's on whoever set up {task}.",
    ],
    "tailored": [
        "Given {thing} runs {n} hours a day, I'd start with {product} there and leave the rest for phase two.",
        "For {account}, with the {n} trucks you mentioned, the smaller plan covers {task} without the extras.",
        "Since {task} is the bottleneck, I'd only turn on {product} for {thing} first and measure it.",
    ],
    "generic": [
        "{product} is the leading solution in the market, trusted by thousands of businesses.",
        "Our platform is best in class, end to end, and it scales with you.",
        "We're the number one choice for companies like yours, full stop.",
    ],
    "talk": [
        "So on the dashboard you'd see {thing} on the left and {task} on the right.",
        "The setup for {product} usually runs in two phases over about {n} weeks.",
        "Right now {thing} would sit on the standard plan, which covers {n} users.",
        "The report goes out every {day}, and {person} can change that if you want.",
        "Let me share my screen so you can see how {task} looks in {product}.",
        "The integration reads the data every {n} minutes, so it's close to live.",
        "Okay, that helps, and it lines up with what {person} told me last time.",
        "That's the part most teams set up first, because it touches {thing}.",
    ],
    "backchannel": ["Right.", "Okay.", "Mm-hm.", "Sure.", "Got it.", "Yeah.", "I see."],
}
CUSTOMER = [
    "Honestly {thing} has been a mess since we added the {n} new people.",
    "We tried something like {product} before and it didn't stick.",
    "I'm not sure, {person2} handles most of that, I'd have to ask.",
    "The bill last month was about {n} thousand, which is way over what we planned.",
    "How long would it take to get {thing} up and running?",
    "Does it work with what we already use for {task}?",
    "We lost most of a {day} when it went down last time.",
    "That's fair, but I need to see numbers before I take it upstairs.",
    "Can you send that over so I can show {person2}?",
    "Yeah, that's been the problem for about {n} months now.",
    "Okay.", "Right.", "Sure, go ahead.", "Mm-hm.", "Yeah, that makes sense.",
    "You said last time you'd send {doc}, I never got it.",
    "I got {doc} on {day}, thanks for that.",
]
TASKS = ["scheduling", "invoicing", "the handover between shifts", "stock counts", "patient reminders", "route planning",
         "quote approvals", "onboarding new staff", "the month-end close", "returns processing"]
PLACES = ["Westfield", "Port Ellery", "Ashford", "the north side", "Riverton", "the city", "Millbrook"]
# share of salesperson turns per kind in an ordinary call
MIX = {"talk": 34, "backchannel": 14, "discovery": 10, "small_talk": 4, "commitment": 7, "honest": 4, "pretending": 3,
       "reframing": 3, "manipulation": 4, "ownership": 2, "blame": 2, "tailored": 4, "generic": 3}


def _fill(rng: random.Random, template: str, account: str) -> str:
    return template.format(
        thing=rng.choice(THINGS), product=rng.choice(PRODUCTS), doc=rng.choice(DOCS), day=rng.choice(DAYS),
        person=rng.choice(PEOPLE), person2=rng.choice(CUSTOMERS), task=rng.choice(TASKS), n=rng.randint(2, 90),
        place=rng.choice(PLACES), account=account,
    )


def _sentence(rng: random.Random, template: str, account: str) -> str:
    text = _fill(rng, template, account)
    opener = rng.choice(OPENERS) if len(text.split()) > 2 else ""
    if opener and not text.lower().startswith(opener.strip(" ,")):
        text = opener + (text[0].lower() if text[1].islower() else text[0]) + text[1:]
    filler = rng.choice(FILLERS)
    if filler and text.endswith("."):
        text = text[:-1] + "," + filler + "."
    return text[0].upper() + text[1:]


def make_call(rng: random.Random, index: int, target_utterances: int = 680) -> dict:
    """One ~45-minute call of about `target_utterances` sentences, turns of 1-3 sentences."""
    account = ACCOUNTS[index % len(ACCOUNTS)]
    salesperson = SALESPEOPLE[index % len(SALESPEOPLE)]
    customer = rng.choice(CUSTOMERS)
    date = dt.date(2026, 1, 5) + dt.timedelta(days=(index * 3) % 300)
    kinds, weights = zip(*MIX.items())
    utterances, clock, count = [], rng.uniform(0.5, 3.0), 0
    while count < target_utterances:
        kind_list = rng.choices(kinds, weights, k=rng.choice((1, 1, 2, 2, 3)))
        text = " ".join(_sentence(rng, rng.choice(SALES[k]), account) for k in kind_list)
        reply = " ".join(_sentence(rng, rng.choice(CUSTOMER), account) for _ in range(rng.choice((1, 1, 2, 3))))
        for speaker, line in ((salesperson, text), (customer, reply)):
            seconds = len(line.split()) / 3.0 + rng.uniform(0.1, 0.5)
            utterances.append({"speaker": speaker, "text": line, "start": round(clock, 2), "end": round(clock + seconds, 2)})
            clock += seconds + rng.uniform(0.1, 0.3)
            count += line.count(".") + line.count("?")
    return {
        "call_id": f"BENCH-{index:05d}", "date": date.isoformat(), "salesperson": salesperson, "account": account,
        "utterances": utterances,
    }


def as_text(call: dict) -> str:
    """The same call as a timestamped text export ("[hh:mm:ss] Speaker: text")."""
    lines = []
    for u in call["utterances"]:
        t = int(u["start"])
        lines.append(f"[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}] {u['speaker']}: {u['text']}\n")
    return "\n".join(lines)


def generate(folder: Path, calls: int, seed: int = 7) -> list[Path]:
    """Write `calls` calls into `folder` (a manifest names salesperson and account for the
    text files). Deterministic for a seed."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths, manifest = [], ["file,call_id,date,salesperson,account\n"]
    for index in range(calls):
        call = make_call(rng, index)
        if index % 2:
            path = folder / f"{call['call_id']}.txt"
            path.write_text(as_text(call), encoding="utf-8")
            manifest.append(f"{path.name},{call['call_id']},{call['date']},{call['salesperson']},{call['account']}\n")
        else:
            path = folder / f"{call['call_id']}.json"
            path.write_text(json.dumps(call, indent=1), encoding="utf-8")
        paths.append(path)
    (folder / "manifest.csv").write_text("".join(manifest), encoding="utf-8")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.folder, args.calls, args.seed)


if __name__ == "__main__":
    main()
