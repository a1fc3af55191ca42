"""Block Kit plumbing (bot/blocks/common.py): clipping, Message's limits, every builder valid."""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.blocks import SectionBlock

from bot.blocks import Message, clip
from tests.bot.blocks_data import all_builders


def test_clip() -> None:
    assert clip("short", 10) == "short"
    assert clip("hello world again", 14) == "hello world…"
    assert clip("hello world again", 12) == "hello world…"
    assert clip("x" * 20, 10) == "x" * 9 + "…"
    assert clip("a&amp;b&amp;c&amp;d", 10) == "a&amp;b…"


@pytest.mark.parametrize("index", range(len(all_builders())))
def test_every_builder_output_is_valid(index: int) -> None:
    message = all_builders()[index]
    assert message.text.strip()
    assert 0 < len(message.blocks) <= 50
    for block in message.blocks:
        block.validate_json()
    json.dumps(message.to_dict())


def test_message_enforces_the_block_limit() -> None:
    blocks = [SectionBlock(text="x") for _ in range(51)]
    with pytest.raises(ValueError, match="51 blocks"):
        Message(text="x", blocks=blocks)
    with pytest.raises(ValueError, match="fallback"):
        Message(text=" ", blocks=[])
