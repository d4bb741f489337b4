import pytest

from genlab.core.errors import GenlabError
from genlab.core.extras import available, require


def test_require_returns_the_module_or_one_line_naming_the_extra():
    assert require("json", extra="x").__name__ == "json"
    with pytest.raises(GenlabError) as e:
        require("genlab_no_such_module", extra="music", what="reading MIDI", package="pretty_midi")
    msg = str(e.value)
    assert "\n" not in msg and "pip install 'genlab[music]'" in msg and "reading MIDI" in msg and "pretty_midi" in msg


def test_available_does_not_raise():
    assert available("json") and not available("genlab_no_such_module") and not available("genlab_no.such")
