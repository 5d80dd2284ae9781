from sklearn_snn.__main__ import main


def test_demo_prints_accuracy_and_time_of_both_models(capsys):
    main()
    out = capsys.readouterr().out
    for name in ["SNNClassifier", "MLPClassifier", "accuracy", "fit time"]:
        assert name in out
