"""Change a housekeeping rate and see it: FDIR's report every 2 s, then back to 10 s."""

from flightsw.ground.procedure import Procedure


def run(p: Procedure) -> None:
    p.assert_completed(p.set_hk_interval("fdir.fdir", 2.0))
    first = p.await_tm("fdir.boot_count", timeout=5)
    second = p.await_tm("fdir.boot_count", since=first, timeout=5)
    third = p.await_tm("fdir.boot_count", since=second, timeout=5)
    p.check(
        abs((third.t_s - second.t_s) - 2.0) < 0.01 and abs((second.t_s - first.t_s) - 2.0) < 0.01,
        f"fdir.fdir every 2 s: {first.t_s}, {second.t_s}, {third.t_s}",
    )
    p.assert_completed(p.set_hk_interval("fdir.fdir", 10.0))
