"""The validation splits of early stopping.

With ``member_validation='shared'``, one hold-out split serves every ensemble
member. With ``'pairs'``, the members form pairs, each pair holds out its own
fold of rows and trains on the rest, and a fold's rows score only the
combined prediction of the members that never trained on them (out-of-fold).
"""

import numpy as np
from sklearn.model_selection import train_test_split


def holdout_split(indices, n_valid, stratify, rng):
    """Split ``indices`` into training and validation indices.

    Parameters
    ----------
    indices : ndarray of shape (n,)
        The row indices to split.
    n_valid : int
        How many of them to hold out, in [1, n).
    stratify : ndarray of shape (n,) or None
        Class labels of those rows to stratify on; None for a random split.
    rng : numpy.random.RandomState
        Draws the split's seed.

    Returns
    -------
    train, valid : ndarray
        The training and the validation indices.
    """
    seed = rng.randint(np.iinfo(np.int32).max)
    if stratify is not None:
        try:
            return train_test_split(
                indices, test_size=n_valid, stratify=stratify, random_state=seed
            )
        except ValueError:
            # Too few samples of some class to stratify: fall through to a
            # random split; the validation set only decides when to stop.
            pass
    return train_test_split(indices, test_size=n_valid, random_state=seed)


def member_folds(n_samples, n_valid, n_estimators, stratify, rng):
    """Split the rows into one validation fold per pair of members.

    Members ``2k`` and ``2k + 1`` share fold ``k``; with an odd number of
    members the last one joins the last pair, so every half of the ensemble
    (the even and the odd members) still has a member out of each fold. The
    folds are disjoint, ``n_valid`` rows each; the first is the split that
    ``'shared'`` would hold out. There are ``n_estimators // 2`` folds, fewer
    if the rows do not suffice, and at least one.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    n_valid : int
        Rows per fold, in [1, n_samples).
    n_estimators : int
        Number of ensemble members.
    stratify : ndarray of shape (n_samples,) or None
        Class labels to stratify each fold on.
    rng : numpy.random.RandomState
        Draws the folds.

    Returns
    -------
    valid : ndarray of shape (n_valid * n_folds,)
        The rows of all folds.
    train_members : ndarray of shape (n_samples, n_estimators), dtype bool
        Which members train on each row: those of other folds than its own.
    valid_members : ndarray of shape (n_valid * n_folds, n_estimators), dtype bool
        Which members each fold row's prediction combines: its fold's.
    """
    n_folds = max(1, min(n_estimators // 2, (n_samples - 1) // n_valid))
    row_fold = np.full(n_samples, -1)
    remaining = np.arange(n_samples)
    for fold in range(n_folds):
        labels = None if stratify is None else stratify[remaining]
        remaining, held_out = holdout_split(remaining, n_valid, labels, rng)
        row_fold[held_out] = fold
    member_fold = np.minimum(np.arange(n_estimators) // 2, n_folds - 1)
    valid = np.flatnonzero(row_fold >= 0)
    train_members = row_fold[:, None] != member_fold
    valid_members = row_fold[valid, None] == member_fold
    return valid, train_members, valid_members
