"""`chaos --partition`'s namespace commands: made, cut, healed and removed symmetrically."""

from __future__ import annotations

from nats_pubsub.chaos.netns import cut_commands, setup_commands, teardown_commands


def test_each_node_gets_a_namespace_on_one_bridge() -> None:
    commands = setup_commands("nc7", 3)
    assert commands[0] == ["ip", "link", "add", "nc7br", "type", "bridge"]
    namespaces = [c[3] for c in commands if c[:3] == ["ip", "netns", "add"]]
    assert namespaces == ["nc7-n1", "nc7-n2", "nc7-n3"]
    assert ["ip", "-n", "nc7-n2", "addr", "add", "10.213.0.2/24", "dev", "nc7n2"] in commands
    assert ["ip", "link", "set", "nc7h3", "master", "nc7br"] in commands
    interfaces = {word for c in commands for word in c if word.startswith("nc7")}
    assert all(len(name) <= 15 for name in interfaces)  # the kernel's limit
    longest = setup_commands("nc99999", 9)
    assert all(len(w) <= 15 for c in longest for w in c if w.startswith("nc99999"))


def test_a_cut_blackholes_both_directions_and_heal_undoes_it() -> None:
    cut = cut_commands("nc7", 3, 2)
    assert cut == [
        ["ip", "-n", "nc7-n2", "route", "add", "blackhole", "10.213.0.1/32"],
        ["ip", "-n", "nc7-n1", "route", "add", "blackhole", "10.213.0.2/32"],
        ["ip", "-n", "nc7-n2", "route", "add", "blackhole", "10.213.0.3/32"],
        ["ip", "-n", "nc7-n3", "route", "add", "blackhole", "10.213.0.2/32"],
    ]
    healed = cut_commands("nc7", 3, 2, heal=True)
    assert [c[:4] + c[5:] for c in healed] == [c[:4] + c[5:] for c in cut]
    assert {c[4] for c in healed} == {"del"}


def test_teardown_removes_what_setup_made() -> None:
    made = setup_commands("nc7", 3)
    removed = teardown_commands("nc7", 3)
    assert {c[3] for c in removed[:-1]} == {c[3] for c in made if c[:3] == ["ip", "netns", "add"]}
    assert removed[-1] == ["ip", "link", "del", "nc7br"]
