"""Machine learning as feature providers: next-bar return forecasts (an LSTM-Transformer on Keras 3/JAX
and a LightGBM baseline) made walk-forward and stored as feature series, and FinBERT headline scoring.

Everything heavy (keras, jax, lightgbm, onnxruntime, tokenizers) is imported inside the functions that
need it, after :func:`mastertrade.extras.require` has checked the ``[ml]`` extra is installed.
"""
