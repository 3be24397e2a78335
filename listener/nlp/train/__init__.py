"""Training, evaluation and calibration of the embedded model; the scorer (listener.nlp) never imports this package.

    python -m listener.nlp.train ...   # a training run (finetune.main); `listener nlp train` takes the same settings

finetune: the training loop; config: a run's settings; datasets: the labelled files, the epoch mix, hold-outs and
dev sets; checkpoint: stop and resume; calibrate: thresholds and offsets tuned after every run; evaluate and
short_texts: the figures `listener nlp eval` reports, on data read from the evaluation directory (`--data-dir`).
"""
