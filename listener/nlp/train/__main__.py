"""`python -m listener.nlp.train`: a training run (listener.nlp.train.finetune)."""

from listener.nlp.train.finetune import main

raise SystemExit(main())
