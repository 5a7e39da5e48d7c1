"""Position sizing: fractional Kelly from each strategy's record (``kelly``), the goals and their
progress (``goals``), the risk factor the goals and the drawdown set (``factor``), and the two combined
into an order amount (``sizer``). Goals are stored by ``store``."""
