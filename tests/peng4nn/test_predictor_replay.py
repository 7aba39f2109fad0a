"""PEng4NN's replay over a zoo: the same table in worker processes as in one."""

import pandas as pd

from peng4nn.predictor import replay_zoo


def test_replay_in_workers_equals_replay_in_one_process(tiny_zoo):
    one = replay_zoo(tiny_zoo)
    two = replay_zoo(tiny_zoo, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == len(tiny_zoo) and one["estimate"].notna().any()
