from tests.nlp.conftest import e5_cache  # noqa: F401  (the converted base model, shared with the nlp tests)
