"""Mock rounds: round files, submissions on disk, batch judging, standings and scoreboards.

Storage is a protocol (records.VerdictStore), judging takes what discovery found, and
publishing returns text: another front end (a web service) can keep its own store and
serve the scoreboards, while the CLI keeps the JSONL store and writes the files.

roundfile    rounds/<name>.yaml: the pydantic model and its loader
submissions  DIR/<contestant>/<slug>[.<stamp>].py|.ipynb -> the submissions to judge
records      Record, Manifest and the VerdictStore protocol: what any store of a round keeps
jsonl_store  JsonlStore: results/<round>/verdicts.jsonl, every verdict appended as it is made
judging      judge what was discovered, resumably, N runs at a time on disjoint cores
standings    verdicts -> public and private rankings (pure)
publish      standings -> the text of scoreboard.csv and a standalone scoreboard.html
"""
