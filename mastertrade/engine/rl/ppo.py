"""PPO training of a trading policy with skrl's JAX agent (``skrl.agents.jax.ppo.PPO``).

skrl supplies the algorithm (rollouts, GAE, clipped surrogate, value loss, Adam); this module supplies
the two flax networks, the configuration and the interaction loop. The loop is ours instead of skrl's
``SequentialTrainer`` because that trainer refuses a single environment and draws its own progress bar on
stdout, where ``--json`` output goes; ours reports progress through a callback.

JAX, flax and skrl are imported inside :func:`train_ppo` only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.signals.model.policy import HIDDEN, PolicyWeights

if TYPE_CHECKING:
    from mastertrade.engine.rl.env import TradingEnv

Progress = Callable[[int, int], None]
"""Called as ``progress(done_steps, total_steps)`` during training."""


@dataclass(frozen=True)
class PPOSettings:
    """Training knobs (defaults suit a few thousand steps on a CPU)."""

    steps: int = 20_000
    envs: int = 16
    """Copies of the environment stepped together (each on its own random windows): one policy call
    serves them all, and skrl's GAE, compiled for ``rollouts`` steps, stays quick to compile."""
    rollouts: int = 16
    learning_epochs: int = 4
    mini_batches: int = 4
    learning_rate: float = 1e-3
    discount_factor: float = 0.9
    gae_lambda: float = 0.9
    reward_scale: float = 100.0
    entropy_scale: float = 0.0
    seed: int = 0


def _networks(hidden: tuple[int, ...]) -> tuple[type, type]:
    import flax.linen as nn
    from skrl.models.jax import CategoricalMixin, DeterministicMixin, Model  # type: ignore[import-untyped]

    class Policy(CategoricalMixin, Model):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:  # flax clones modules with every field as a keyword
            Model.__init__(self, **kwargs)
            CategoricalMixin.__init__(self, unnormalized_log_prob=True)

        @nn.compact
        def __call__(self, inputs: dict[str, Any], role: str) -> tuple[Any, dict[str, Any]]:
            x = inputs["observations"]
            for width in hidden:
                x = nn.tanh(nn.Dense(width)(x))
            return nn.Dense(self.num_actions)(x), {}

    class Value(DeterministicMixin, Model):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:  # flax clones modules with every field as a keyword
            Model.__init__(self, **kwargs)
            DeterministicMixin.__init__(self)

        @nn.compact
        def __call__(self, inputs: dict[str, Any], role: str) -> tuple[Any, dict[str, Any]]:
            x = inputs["observations"]
            for width in hidden:
                x = nn.tanh(nn.Dense(width)(x))
            return nn.Dense(1)(x), {}

    return Policy, Value


def train_ppo(env: TradingEnv, settings: PPOSettings, progress: Progress | None = None) -> PolicyWeights:
    """Train on ``env`` for ``settings.steps`` steps; the policy's weights (the same for the same seed).

    skrl's memory draws its mini-batches from numpy's global generator, so that generator is seeded for
    the training and restored afterwards, leaving the caller's random state as it was."""
    saved = np.random.get_state()
    np.random.seed(settings.seed)
    try:
        return _train(env, settings, progress)
    finally:
        np.random.set_state(saved)


def _train(env: TradingEnv, settings: PPOSettings, progress: Progress | None) -> PolicyWeights:
    import jax
    import jax.numpy as jnp
    from skrl import config  # type: ignore[import-untyped]
    from skrl.agents.jax.ppo import PPO  # type: ignore[import-untyped]
    from skrl.memories.jax import RandomMemory  # type: ignore[import-untyped]

    config.jax.backend = "jax"
    config.jax.key = jax.random.PRNGKey(settings.seed)
    policy_cls, value_cls = _networks(HIDDEN)
    policy = policy_cls(observation_space=env.observation_space, action_space=env.action_space)
    value = value_cls(observation_space=env.observation_space, action_space=env.action_space)
    for model in (policy, value):
        model.init_state_dict(role="policy" if model is policy else "value")
    memory = RandomMemory(memory_size=settings.rollouts, num_envs=settings.envs)
    scale = settings.reward_scale
    agent = PPO(
        models={"policy": policy, "value": value},
        memory=memory,
        observation_space=env.observation_space,
        action_space=env.action_space,
        cfg={
            "rollouts": settings.rollouts,
            "learning_epochs": settings.learning_epochs,
            "mini_batches": settings.mini_batches,
            "learning_rate": settings.learning_rate,
            "discount_factor": settings.discount_factor,
            "gae_lambda": settings.gae_lambda,
            "entropy_loss_scale": settings.entropy_scale,
            "value_loss_scale": 0.5,
            "rewards_shaper": lambda rewards, *_: rewards * scale,
            "experiment": {"write_interval": 0, "checkpoint_interval": 0, "directory": ""},
        },
    )
    agent.init()
    agent.enable_training_mode(True)
    envs = [env] + [env.copy() for _ in range(settings.envs - 1)]
    current = np.stack([copy.reset(seed=settings.seed + k)[0] for k, copy in enumerate(envs)])
    total = settings.steps
    rounds = max(1, -(-total // settings.envs))
    for step in range(rounds):
        obs = jnp.asarray(current, dtype=jnp.float32)
        agent.pre_interaction(timestep=step, timesteps=rounds)
        actions, _ = agent.act(obs, None, timestep=step, timesteps=rounds)
        chosen = np.asarray(actions).reshape(-1)
        following = np.empty_like(current)
        rewards = np.empty((settings.envs, 1), dtype=np.float32)
        ended = np.zeros((settings.envs, 1), dtype=np.int8)
        restart = np.empty_like(current)
        for k, copy in enumerate(envs):
            following[k], rewards[k, 0], done, _, _ = copy.step(int(chosen[k]))
            ended[k, 0] = done
            restart[k] = copy.reset()[0] if done else following[k]
        agent.record_transition(
            observations=obs,
            states=None,
            actions=actions,
            rewards=jnp.asarray(rewards),
            next_observations=jnp.asarray(following, dtype=jnp.float32),
            next_states=None,
            terminated=jnp.asarray(ended),
            truncated=jnp.zeros_like(jnp.asarray(ended)),
            infos={},
            timestep=step,
            timesteps=rounds,
        )
        agent.post_interaction(timestep=step, timesteps=rounds)
        current = restart
        if progress is not None:
            progress(min(total, (step + 1) * settings.envs), total)
    return _weights(policy.state_dict.params)


def _weights(params: Any) -> PolicyWeights:
    """Flax's ``{"params": {"Dense_0": {"kernel", "bias"}, ...}}`` as numpy layers in order."""
    tree = params["params"] if "params" in params else params
    names = sorted(tree, key=lambda name: int(name.rsplit("_", 1)[1]))
    layers = [{"kernel": np.asarray(tree[n]["kernel"]), "bias": np.asarray(tree[n]["bias"])} for n in names]
    return PolicyWeights.from_lists(layers)
