"""Reinforcement learning on the product's own backtest semantics (extra ``[ml]``).

- :mod:`.env`: a gymnasium environment whose steps are the fast engine's bars (signal at the close of
  bar t, fill at the open of t+1, fees, stops, sizing), so a policy is trained on exactly what the
  backtester, paper trading and the parity monitor will later measure;
- :mod:`.features`: the observation of bar t, computed from bars up to t only;
- :mod:`.policy`: the policy network's forward pass in numpy (inference needs no JAX);
- :mod:`.artifact`: the versioned policy file (content hash, training range, features, libraries);
- :mod:`.ppo`: training with skrl's JAX PPO (imports JAX, flax and skrl lazily);
- :mod:`.strategy`: a trained policy as a strategy of kind ``model`` (entry/exit signals like a plugin's);
- :mod:`.train`: the use case behind ``mt rl train``: load, train on the search window, score the hold-out.

Nothing here is imported by ``mt --help``; numpy is the only import of the env, features, policy and
strategy modules, gymnasium only of :mod:`.env`.
"""
