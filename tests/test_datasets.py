"""Spectra: built-in, embedded, scikit-learn, files."""

import numpy as np
import pytest

from gaussrelbo.datasets import load_spectrum, spectrum_from_samples


def test_embedded_digits_matches_sklearn_pca():
    sklearn = pytest.importorskip("sklearn", reason="scikit-learn (extra 'sklearn') not installed")
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    X = load_digits().data
    pca = PCA().fit(X)                                       # ddof=1 variances
    ref = pca.explained_variance_ * (X.shape[0] - 1) / X.shape[0]
    lam = load_spectrum("digits")
    assert lam.shape == (64,)
    assert sklearn is not None
    top = ref > 1e-12 * ref[0]
    np.testing.assert_allclose(lam[top], ref[top], rtol=1e-9)
    np.testing.assert_array_equal(lam[~top], 0.0)


@pytest.mark.parametrize("name", ["wine", "iris", "breast_cancer", "sklearn-digits"])
def test_sklearn_spectra_are_covariance_eigenvalues(name):
    pytest.importorskip("sklearn", reason="scikit-learn (extra 'sklearn') not installed")
    lam = load_spectrum(name)
    assert np.all(np.diff(lam) <= 0) and lam[-1] >= 0
    # the trace of the covariance equals the sum of the eigenvalues
    from sklearn import datasets
    X = {"wine": datasets.load_wine, "iris": datasets.load_iris,
         "breast_cancer": datasets.load_breast_cancer,
         "sklearn-digits": datasets.load_digits}[name]().data
    np.testing.assert_allclose(lam.sum(), X.var(axis=0).sum(), rtol=1e-10)


def test_builtin_and_files(tmp_path):
    np.testing.assert_array_equal(load_spectrum("synthetic"), [5, 4, 3, 2, 1.2, 0.5])
    f = tmp_path / "lam.txt"
    f.write_text("# eigenvalues\n1.0\n3.0\n2.0\n")
    np.testing.assert_array_equal(load_spectrum(f), [3.0, 2.0, 1.0])
    X = np.random.default_rng(0).normal(size=(40, 3)) * [3.0, 1.0, 0.2]
    csv = tmp_path / "x.csv"
    np.savetxt(csv, X, delimiter=",")
    np.testing.assert_allclose(load_spectrum(csv),
                               np.sort(np.linalg.eigvalsh(np.cov(X.T, ddof=0)))[::-1],
                               rtol=1e-12)
    np.testing.assert_allclose(spectrum_from_samples(X, standardize=True).sum(), 3.0)


def test_bad_spectra(tmp_path):
    with pytest.raises(ValueError, match="`spectrum` 'nope' is neither a built-in name"):
        load_spectrum("nope")
    f = tmp_path / "neg.txt"
    f.write_text("1.0\n-2.0\n")
    with pytest.raises(ValueError, match="negative eigenvalue"):
        load_spectrum(f)
    with pytest.raises(ValueError, match=r"`X` must have shape \(N, n\) with N >= 2"):
        spectrum_from_samples(np.ones(3))
