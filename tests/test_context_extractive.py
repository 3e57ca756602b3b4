"""The offline `ExtractiveSummariser`, read through `Summariser` as the summarise strategy
uses it: what a summary keeps, what it rolls up, and how it shortens itself."""

from harness.context.extractive import ExtractiveSummariser
from harness.context.steps import split_steps
from harness.context.summarise import Summariser
from harness.events import ModelCalled
from harness.messages import Message, ToolCall
from tests.test_context_support import state, step

TASK = "Find the total of invoice INV-2231 and report it in EUR."
FILLER = "The weather was mild that week. Lunch was served at noon. "


def summarise(hist, *, task=TASK, **kw):
    st, events = state(hist, task=task)
    text = Summariser(ExtractiveSummariser(**kw)).steps(st, split_steps(hist))
    return text, events


def test_a_summary_keeps_each_relevant_step_with_its_calls_and_best_sentences():
    hist = step(1, [FILLER + "Invoice INV-2231 totals 410 EUR after the discount. " + FILLER]) \
        + step(2, [FILLER * 3])
    text, events = summarise(hist)
    lines = text.splitlines()
    assert lines[0] == 'step 1: read_file(path="f1_0.txt") -> ok'
    assert lines[1] == "  - Invoice INV-2231 totals 410 EUR after the discount."
    assert lines[2:] == ["step 2: nothing relevant found"]
    (call,) = [e for e in events if isinstance(e, ModelCalled)]
    assert call.purpose == "summarise" and call.model == "extractive-summariser"
    assert call.usage.input_tokens > call.usage.output_tokens > 0


def test_an_error_outcome_is_kept_whole_even_with_parentheses_in_it():
    hist = step(1, ["ERROR: read_file: invalid arguments: 'path' (line 3)\n"
                    "Invoice INV-2231 is not in this folder, look for the EUR copy."])
    text, _ = summarise(hist)
    assert text.splitlines()[0] == ('step 1: read_file(path="f1_0.txt") -> error: read_file: '
                                    "invalid arguments: 'path' (line 3)")


def test_sentences_with_identifiers_rank_first_and_at_most_per_step_are_kept():
    out = ("The invoice total is in the EUR ledger. Invoice INV-2231: total 410 EUR. "
           "Another invoice total in EUR is pending. The EUR total of the invoice is due.")
    text, _ = summarise(step(1, [out]), per_step=1)
    assert text.splitlines()[1:] == ["  - Invoice INV-2231: total 410 EUR."]


def test_idle_steps_are_rolled_into_one_line_with_their_ranges():
    hist = []
    for i in range(1, 6):
        hist += step(i, ["INV-2231 total 410 EUR." if i == 3 else "nothing here"])
    text, _ = summarise(hist)
    assert text.splitlines()[-1] == "steps 1-2, 4-5: nothing relevant found"
    assert text.splitlines()[0].startswith("step 3: read_file(")


def test_the_assistants_own_words_count_as_sentences():
    hist = [Message(role="assistant", content="The EUR total of invoice INV-2231 is 410.",
                    tool_calls=[ToolCall(id="c1", name="noop", arguments={})]),
            Message(role="tool", tool_call_id="c1", name="noop", content="done")]
    text, _ = summarise(hist)
    assert "  - assistant: The EUR total of invoice INV-2231 is 410." in text.splitlines()


def test_a_summary_over_max_tokens_drops_its_least_relevant_sentences_first():
    out = " ".join(f"Invoice line {k} adds {k * 10} EUR to the total." for k in range(1, 9)) \
        + " Invoice INV-2231 total: 410 EUR, total of invoice confirmed."
    full, _ = summarise(step(1, [out]), per_step=9)
    st, _ = state([], task=TASK)
    short = Summariser(ExtractiveSummariser(per_step=9), max_tokens=40).steps(
        st, split_steps(step(1, [out])))
    assert len(short) < len(full) and (len(short) + 3) // 4 <= 40
    assert "INV-2231 total: 410 EUR" in short  # the best sentence outlives the others


def test_merging_reads_its_own_summary_back_and_shortens_it():
    summary = "\n".join(
        [f"step {i}: read_file(path=\"f{i}.txt\") -> ok\n  - Invoice part {i} of INV-2231 "
         f"totals {i * 100} EUR in all." for i in range(1, 7)])
    st, _ = state([], task=TASK)
    merged = Summariser(ExtractiveSummariser(), max_tokens=60).merge(st, summary)
    assert len(merged) < len(summary) and (len(merged) + 3) // 4 <= 60
    assert merged.splitlines()[0].startswith("step ")


def test_a_failed_call_survives_without_a_relevant_sentence_and_idle_steps_do_not():
    hist = step(1, ["ERROR: file not found: bills/march.pdf"]) + step(2, ["nothing here"])
    text, _ = summarise(hist)
    assert text.splitlines() == [
        'step 1: read_file(path="f1_0.txt") -> error: file not found: bills/march.pdf',
        "step 2: nothing relevant found"]


def test_under_pressure_failures_go_after_every_sentence_and_oldest_first():
    hist = []
    for i in range(1, 4):
        hist += step(i, [f"ERROR: file not found: bills/part{i}.pdf"])
    hist += step(4, ["Invoice INV-2231 totals 410 EUR."])
    st, _ = state([], task=TASK)
    steps = split_steps(hist)
    roomy = Summariser(ExtractiveSummariser()).steps(st, steps)
    assert roomy.count("-> error") == 3 and "INV-2231 totals 410 EUR" in roomy
    tight = Summariser(ExtractiveSummariser(), max_tokens=45).steps(st, steps)
    assert "INV-2231 totals 410 EUR" not in tight  # sentences go first
    assert "part3.pdf" in tight and "part1.pdf" not in tight  # then the oldest failures
    assert tight.splitlines()[-1].startswith("steps 1")  # rolled into the idle line


def test_a_sentence_is_kept_once_however_often_the_outputs_repeat_it():
    fact = "Invoice INV-2231 totals 410 EUR."
    hist = step(1, [f"{fact} {FILLER}" * 3]) + step(2, [fact])
    text, _ = summarise(hist)
    assert text.count(fact) == 1
    assert text.splitlines()[-1] == "step 2: nothing relevant found"
