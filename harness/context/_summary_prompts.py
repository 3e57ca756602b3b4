"""What a summariser is asked: the system prompt and the headers of its two requests.

Shared by `Summariser`, which sends them to a model, and the offline
`ExtractiveSummariser`, which reads a request by them.
"""

SUMMARY_SYSTEM = (
    "You compress an agent's earlier steps so that it can continue without them. Keep every "
    "fact the task may need: names, numbers, identifiers, paths, errors, decisions and what "
    "each step found. Drop everything else. Reply with the summary only, in short lines.")
STEPS_HEADER = "Steps to summarise:\n"
MERGE_HEADER = "Summary to shorten:\n"
