"""Mock rounds: round files, submissions on disk, batch judging, standings and scoreboards.

roundfile    rounds/<name>.yaml: the pydantic model and its loader
submissions  DIR/<contestant>/<slug>[.<stamp>].py|.ipynb -> the submissions to judge
records      Record, Manifest and the VerdictStore protocol: what any store of a round keeps
jsonl_store  JsonlStore: results/<round>/verdicts.jsonl, every verdict appended as it is made
judging      judge a whole round, resumably, N runs at a time on disjoint cores
standings    verdicts -> public and private rankings (pure)
publish      standings -> scoreboard.csv and a standalone scoreboard.html
"""
