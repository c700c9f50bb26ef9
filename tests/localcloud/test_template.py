"""Loading templates: short-form tags, parameters, the SAM transform, conditions."""

from pathlib import Path

import pytest

from localcloud.template import TemplateError, load_template, load_yaml

from .conftest import ECHO_TEMPLATE, REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


def test_short_form_tags_become_long_form(tmp_path: Path) -> None:
    document = load_yaml(
        write(
            tmp_path,
            """
A: !Ref Thing
B: !GetAtt Table.Arn
C: !GetAtt [Table, StreamArn]
D: !Sub "${AWS::Region}-x"
E: !Sub ["${a}", {a: !Ref B}]
F: !If [Cond, !Join [",", [a, b]], !Ref AWS::NoValue]
G: !Select [0, !Split [",", "a,b"]]
H: !Condition IsProd
I: !FindInMap [M, K, V]
""",
        )
    )
    assert document == {
        "A": {"Ref": "Thing"},
        "B": {"Fn::GetAtt": ["Table", "Arn"]},
        "C": {"Fn::GetAtt": ["Table", "StreamArn"]},
        "D": {"Fn::Sub": "${AWS::Region}-x"},
        "E": {"Fn::Sub": ["${a}", {"a": {"Ref": "B"}}]},
        "F": {"Fn::If": ["Cond", {"Fn::Join": [",", ["a", "b"]]}, {"Ref": "AWS::NoValue"}]},
        "G": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "H": {"Condition": "IsProd"},
        "I": {"Fn::FindInMap": ["M", "K", "V"]},
    }


def test_the_transform_output_is_what_is_loaded() -> None:
    """SAM resources and Globals are gone: the transform merged Globals into CloudFormation types."""
    template = load_template(ECHO_TEMPLATE)
    assert not [r for r in template.resources.values() if r.type.startswith("AWS::Serverless::")]
    assert "Globals" not in template.document and "Transform" not in template.document
    assert template.source["Transform"] == "AWS::Serverless-2016-10-31"
    function = template.resources["EchoFunction"]
    assert function.type == "AWS::Lambda::Function"
    variables = function.properties["Environment"]["Variables"]
    assert variables["FROM_GLOBALS"] == "globals"
    assert variables["OVERRIDDEN"] == "function"  # the resource wins on a conflict
    assert variables["STAGE"] == {"Ref": "Stage"}
    (layer,) = function.properties["Layers"]
    assert template.resources[layer["Ref"]].type == "AWS::Lambda::LayerVersion"
    assert function.properties["Timeout"] == 3
    assert function.properties["TracingConfig"] == {"Mode": "Active"}
    assert template.local_path(function.properties["Code"]) == ECHO_TEMPLATE.parent / "src"


def test_lists_from_globals_are_prepended(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Layers: [arn:aws:lambda:us-east-1:123456789012:layer:global:1]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.13
      Layers: [arn:aws:lambda:us-east-1:123456789012:layer:local:1]
""",
    )
    assert load_template(path).resources["Fn"].properties["Layers"] == [
        "arn:aws:lambda:us-east-1:123456789012:layer:global:1",
        "arn:aws:lambda:us-east-1:123456789012:layer:local:1",
    ]


def test_parameters_defaults_overrides_and_lists() -> None:
    template = load_template(ECHO_TEMPLATE)
    assert template.parameters["Stage"] == "test"
    assert template.parameters["Origins"] == ["http://allowed.example", "https://*.wild.example"]
    overridden = load_template(ECHO_TEMPLATE, {"Stage": "prod", "Origins": "http://a.example"})
    assert overridden.parameters["Origins"] == ["http://a.example"]


def test_parameter_override_outside_allowed_values_is_refused() -> None:
    with pytest.raises(TemplateError, match="not one of"):
        load_template(ECHO_TEMPLATE, {"Stage": "staging"})


def test_parameter_override_outside_allowed_pattern_is_refused() -> None:
    with pytest.raises(TemplateError, match='no "\\*"'):
        load_template(REPO / "template.yaml", {"CorsAllowedOrigins": "*"})


def test_unknown_parameter_override_is_refused() -> None:
    with pytest.raises(TemplateError, match="unknown parameters: Nope"):
        load_template(ECHO_TEMPLATE, {"Nope": "1"})


def test_conditions_leave_resources_out() -> None:
    template = load_template(ECHO_TEMPLATE)
    assert template.conditions == {"IsProd": False, "IsNotProd": True}
    assert "ProdOnlyTable" not in template.resources
    assert template.omitted == {"ProdOnlyTable": "IsProd"}
    prod = load_template(ECHO_TEMPLATE, {"Stage": "prod"})
    assert "ProdOnlyTable" in prod.resources


def test_pseudo_parameters() -> None:
    template = load_template(REPO / "template.yaml", region="eu-west-1", stack_name="s")
    assert template.pseudo["AWS::Region"] == "eu-west-1"
    assert template.pseudo["AWS::StackName"] == "s"
    assert template.pseudo["AWS::AccountId"] == "123456789012"
    assert template.pseudo["AWS::URLSuffix"] == "amazonaws.com"


def test_unknown_sections_and_transforms_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions]
Rules: {}
Resources:
  Queue:
    Type: AWS::SQS::Queue
""",
    )
    warnings = load_template(path).warnings
    assert "template section Rules is not evaluated locally" in warnings
    assert "transform AWS::LanguageExtensions is not applied locally" in warnings


def test_sam_resources_without_the_transform_are_refused_as_cloudformation_does(tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n")
    with pytest.raises(TemplateError, match=r"Unrecognized resource types: .*AWS::Serverless::Function"):
        load_template(path)


def test_not_a_template(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no Resources"):
        load_template(write(tmp_path, "just: text\n"))


def test_invalid_globals_are_refused_as_sam_does(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Events: {}
Resources:
  Queue:
    Type: AWS::SQS::Queue
""",
    )
    with pytest.raises(TemplateError, match=r"the SAM transform refused the template: .*Globals"):
        load_template(path)


def test_a_transform_is_kept_and_reused_for_exactly_the_same_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from samtranslator.translator.translator import Translator

    from tests.support import TEMPLATE_PATH

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = load_template(TEMPLATE_PATH, {"Stage": "dev"})
    assert len(list((tmp_path / "localcloud-transform").glob("*.json"))) == 1

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the SAM transform ran again")

    monkeypatch.setattr(Translator, "translate", refuse)
    again = load_template(TEMPLATE_PATH, {"Stage": "dev"})
    assert again.document == first.document
    with pytest.raises(AssertionError, match="ran again"):  # another parameter value: another input
        load_template(TEMPLATE_PATH, {"Stage": "prod"})
