"""Change a housekeeping rate and see it: FDIR's report every 2 s, then back to 10 s."""

from flightsw.ground.procedure import Procedure


def run(p: Procedure) -> None:
    p.assert_completed(p.set_hk_interval("fdir.fdir", 2.0))
    first = p.await_tm("fdir.boot_count", timeout=5)
    second = p.await_tm("fdir.boot_count", since=first, timeout=5)
    third = p.await_tm("fdir.boot_count", since=second, timeout=5)
    # Within 0.1 s: a wall-clock build on a busy host is late by some ms a packet, and
    # 2 s is still told apart from the 10 s before and after.
    p.check(
        abs((third.t_s - second.t_s) - 2.0) < 0.1 and abs((second.t_s - first.t_s) - 2.0) < 0.1,
        f"fdir.fdir every 2 s: {first.t_s}, {second.t_s}, {third.t_s}",
    )
    p.assert_completed(p.set_hk_interval("fdir.fdir", 10.0))
