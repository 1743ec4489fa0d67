"""Answers to an attempt's questions, for tests: all right, or every question answered wrong."""


def right_options(question) -> set[int]:
    return {option.id for option in question.options if option.is_correct}


def wrong_options(question) -> set[int]:
    """One wrong option: a complete answer that scores nothing."""
    return {next(option.id for option in question.active_options if not option.is_correct)}


def right_answers(attempt) -> dict[int, set[int]]:
    return {asked.question_id: right_options(asked.question) for asked in attempt.questions}


def wrong_answers(attempt) -> dict[int, set[int]]:
    return {asked.question_id: wrong_options(asked.question) for asked in attempt.questions}


def as_form(answers: dict[int, set[int]]) -> dict[str, list[str]]:
    """The quiz page's form fields for `answers`."""
    return {f"q-{question_id}": [str(option_id) for option_id in chosen] for question_id, chosen in answers.items()}
