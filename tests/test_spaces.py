import pickle

import numpy as np
import pytest
import torch
from torch import nn

from cenas_sklearn.spaces import (
    NATS_SIZE_CELL,
    NATSSizeSpace,
    NB201Space,
    get_space,
    infer_space,
)
from cenas_sklearn.spaces._ops import FactorizedReduce, ResNetBasicBlock, Zero

from ._data import require_shared

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(scope="module")
def nb201():
    return NB201Space()


@pytest.fixture(scope="module")
def sss():
    return NATSSizeSpace()


# ---------------------------------------------------------------- index order
def test_nb201_order_matches_official_configs(nb201):
    configs = require_shared("nb201-lighton", "configs.txt").read_text().split()
    assert len(nb201) == 15625
    assert list(nb201) == configs


def test_orders_match_nats_archive_meta(nb201, sss):
    nats_bench = pytest.importorskip("nats_bench")
    sample = require_shared("nats-bench-sample")
    for space, folder in [(nb201, "NATS-tss-v1_0-3ffb9-simple"), (sss, "NATS-sss-v1_0-50262-simple")]:
        api = nats_bench.create(str(sample / folder), space.nats_name, fast_mode=True, verbose=False)
        assert list(space) == list(api.meta_archs)


def test_nb201_known_indices(nb201):
    assert nb201[0] == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert nb201[9930] == NATS_SIZE_CELL
    assert nb201[-1] == nb201[15624]
    assert nb201.index(NATS_SIZE_CELL) == 9930
    assert nb201.index(3731) == 3731
    assert nb201[10:12] == [nb201[10], nb201[11]]


def test_sss_order(sss):
    assert len(sss) == 32768
    assert sss[0] == "8:8:8:8:8"
    assert sss[1] == "8:8:8:8:16"
    assert sss[284] == "8:8:40:32:40"
    assert sss[-1] == "64:64:64:64:64"
    assert all(sss.index(a) == i for i, a in enumerate(sss[:300]))


def test_index_roundtrip_is_a_bijection(nb201, sss):
    for space in (nb201, sss):
        idx = space.indices(iter(space))
        np.testing.assert_array_equal(idx, np.arange(len(space)))


# ---------------------------------------------------------------- parsing
@pytest.mark.parametrize(
    "arch, match",
    [
        ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", r"unknown operation 'conv_5x5' on edge 1<-0"),
        ("|none~0|+|none~0|conv_5x5~1|+|none~0|none~1|none~2|", r"unknown operation 'conv_5x5' on edge 2<-1"),
        ("|none~0|+|none~0|none~1|", r"3 nodes separated by '\+', got 2"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", r"node 2 lacks its edge\(s\) from node\(s\) 1"),
        ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", r"node 2 comes from node 2"),
        ("|none~0|+|none~0|none~0|+|none~0|none~1|none~2|", r"edge 2<-0 is given twice"),
        ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", r"must read 'operation~source'"),
        ("none~0+|none~0|none~1|+|none~0|none~1|none~2|", r"node 1 must be written"),
        ("", r"3 nodes"),
    ],
)
def test_nb201_parse_errors_name_the_fault(nb201, arch, match):
    with pytest.raises(ValueError, match=match):
        nb201.parse(arch)
    assert arch not in nb201


def test_nb201_edges_in_any_order_are_canonicalised(nb201):
    shuffled = "|nor_conv_3x3~0|+|nor_conv_3x3~1|nor_conv_3x3~0|+|nor_conv_3x3~2|skip_connect~0|nor_conv_3x3~1|"
    assert nb201.to_string(shuffled) == NATS_SIZE_CELL
    assert nb201.index(f"  {NATS_SIZE_CELL} ") == 9930


@pytest.mark.parametrize(
    "arch, exc, match",
    [
        ("8:8:8:8", ValueError, "5 widths"),
        ("8:8:8:8:12", ValueError, "width 12 of layer 4 is not a candidate"),
        ("8:8:x:8:8", ValueError, "layer 2 is not an integer"),
        ("8:8:8:8:72", ValueError, "not a candidate width"),
        (32768, IndexError, "out of range"),
        (-1, IndexError, "out of range"),
        (1.0, TypeError, "integer"),
        (True, TypeError, "integer"),
        (None, TypeError, "integer"),
    ],
)
def test_sss_parse_errors(sss, arch, exc, match):
    with pytest.raises(exc, match=match):
        sss.index(arch)


def test_indices_accept_numpy_integers(nb201, sss):
    assert nb201.index(np.int64(5)) == 5
    assert sss.to_string(np.int32(284)) == "8:8:40:32:40"


# ---------------------------------------------------------------- isomorphism
def test_nb201_isomorphism_classes(nb201):
    reps = nb201.representative_indices()
    assert len(reps) == 6466  # NAS-Bench-201 paper
    assert reps[0] == 0
    # all-none and any cell whose output is disconnected compute the zero function
    cut = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|none~1|none~2|"
    assert nb201.isomorphism_key(cut) == nb201.isomorphism_key(ALL_NONE)
    assert nb201.canonical(cut) == nb201.canonical(ALL_NONE)
    # commutativity of the sum at node 3
    a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    b = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    assert nb201.isomorphism_key(a) != nb201.isomorphism_key(b)  # node 2 is conv1x1(x), not conv3x3(x)
    c = "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
    d = "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    assert nb201.isomorphism_key(c) != nb201.isomorphism_key(d)
    e = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    f = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    assert nb201.isomorphism_key(e) != nb201.isomorphism_key(f)  # conv(conv x) vs conv(x) at node 3
    # node 1 = skip(x) equals the input, so skip~0 / conv~1 and conv~0 / skip~1 agree at node 3
    g = "|skip_connect~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"
    h = "|skip_connect~0|+|none~0|none~1|+|nor_conv_1x1~0|skip_connect~1|none~2|"
    assert nb201.isomorphism_key(g) == nb201.isomorphism_key(h)
    assert nb201.canonical(g) == nb201.canonical(h)
    assert nb201.canonical(nb201.canonical(g)) == nb201.canonical(g)


def test_sss_has_no_isomorphisms(sss):
    assert len(sss.representative_indices()) == len(sss)
    assert sss.canonical(284) == "8:8:40:32:40"


# ---------------------------------------------------------------- sampling
def test_sampling_is_reproducible_and_valid(nb201, sss):
    a = nb201.sample(50, random_state=0)
    assert a == nb201.sample(50, random_state=0)
    assert a != nb201.sample(50, random_state=1)
    assert len(set(a)) == 50
    assert all(x in nb201 for x in a)
    u = nb201.sample_indices(6466, unique=True, random_state=0)
    assert len(set(nb201.isomorphism_key(i) for i in u[:500])) == 500
    with pytest.raises(ValueError, match="6466"):
        nb201.sample_indices(6467, unique=True)
    with pytest.raises(ValueError, match=">= 0"):
        sss.sample(-1)
    assert len(sss.sample(40000, replace=True, random_state=0)) == 40000


# ---------------------------------------------------------------- neighbours / encodings
def test_neighbours_differ_by_one_edit(nb201, sss):
    n = nb201.neighbours(NATS_SIZE_CELL)
    assert len(n) == len(set(n)) == 24
    base = nb201.onehot(NATS_SIZE_CELL)
    for other in n:
        assert np.abs(nb201.onehot(other) - base).sum() == 2
    m = sss.neighbours("8:16:24:32:40")
    assert len(m) == len(set(m)) == 35
    assert "64:16:24:32:40" in m


def test_onehot(nb201, sss):
    x = nb201.onehot([0, 9930])
    assert x.shape == (2, 30) and x.dtype == np.float32
    assert (x.sum(axis=1) == 6).all()
    names = nb201.onehot_feature_names()
    assert list(names[x[1] == 1]) == [
        "1<-0=nor_conv_3x3", "2<-0=nor_conv_3x3", "2<-1=nor_conv_3x3",
        "3<-0=skip_connect", "3<-1=nor_conv_3x3", "3<-2=nor_conv_3x3",
    ]
    y = sss.onehot(["8:8:40:32:40"])
    assert y.shape == (1, 40)
    assert list(sss.onehot_feature_names()[y[0] == 1]) == [
        "layer0=8", "layer1=8", "layer2=40", "layer3=32", "layer4=40"]


# ---------------------------------------------------------------- networks
@pytest.mark.parametrize(
    "space_name, arch, num_classes, params",
    [  # figures published with NATS-Bench (see ../shared/data/README.md)
        ("tss", NATS_SIZE_CELL, 10, 1_288_506),
        ("tss", ALL_CONV, 10, 1_531_546),
        ("tss", ALL_NONE, 10, 73_306),
        ("sss", "64:64:64:64:64", 10, 713_674),
    ],
)
def test_published_parameter_counts(space_name, arch, num_classes, params):
    assert get_space(space_name).n_parameters(arch, num_classes=num_classes) == params


@pytest.mark.parametrize("space_name", ["tss", "sss"])
def test_parameter_counts_equal_nats_archive(space_name):
    nats_bench = pytest.importorskip("nats_bench")
    folder = {"tss": "NATS-tss-v1_0-3ffb9-simple", "sss": "NATS-sss-v1_0-50262-simple"}[space_name]
    path = require_shared("nats-bench-sample", folder)
    api = nats_bench.create(str(path), space_name, fast_mode=True, verbose=False)
    space = get_space(space_name)
    checked = 0
    for index in (0, 11, 284):
        for dataset, num_classes in [("cifar10", 10), ("cifar100", 100), ("ImageNet16-120", 120)]:
            recorded = api.get_cost_info(index, dataset, hp="200" if space_name == "tss" else "90")
            ours = space.n_parameters(index, num_classes=num_classes)
            assert ours == round(recorded["params"] * 1e6), (index, dataset)
            checked += 1
    assert checked == 9


def test_nb201_network_structure(nb201):
    net = nb201.build(ALL_CONV, num_classes=7)
    assert [type(c).__name__ for c in net.cells] == ["InferCell"] * 5 + ["ResNetBasicBlock"] + \
        ["InferCell"] * 5 + ["ResNetBasicBlock"] + ["InferCell"] * 5
    # BN + ReLU before global pooling (often forgotten by re-implementations)
    assert isinstance(net.lastact[0], nn.BatchNorm2d) and net.lastact[0].num_features == 64
    assert isinstance(net.lastact[1], nn.ReLU)
    assert net.classifier.in_features == 64 and net.classifier.out_features == 7
    red = net.cells[5]
    assert isinstance(red, ResNetBasicBlock)
    assert isinstance(red.downsample[0], nn.AvgPool2d) and red.downsample[1].stride == (1, 1)
    assert red.conv_a.op[1].stride == (2, 2)
    out = net(torch.randn(4, 3, 32, 32))
    assert out.shape == (4, 7)


def test_size_network_maps_widths_inside_cells(sss):
    net = sss.build("8:8:40:32:40")
    cell = net.cells[2]  # 8 -> 40 channels inside a cell
    # skip_connect~0 of node 3 becomes a 1x1 conv + BN (no ReLU) when widths differ
    skip = cell.layers[3]
    assert isinstance(skip, FactorizedReduce) and skip.stride == 1
    assert skip.conv.in_channels == 8 and skip.conv.out_channels == 40
    assert net(torch.randn(2, 3, 16, 16)).shape == (2, 10)  # any resolution


def test_zero_operation_outputs_zero(nb201):
    z = Zero(4, 4, 1)
    assert torch.count_nonzero(z(torch.randn(2, 4, 8, 8))) == 0
    assert Zero(4, 8, 1)(torch.randn(2, 4, 8, 8)).shape == (2, 8, 8, 8)
    torch.manual_seed(0)
    net = nb201.build(ALL_NONE)
    x = torch.randn(3, 3, 32, 32, requires_grad=True)
    net(x).sum().backward()
    assert torch.count_nonzero(x.grad) == 0  # logits do not depend on the input at all


def test_build_validates(nb201):
    with pytest.raises(ValueError, match="num_classes"):
        nb201.build(0, num_classes=0)
    with pytest.raises(ValueError, match="unknown operation"):
        nb201.build("|x~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(ValueError, match="C must be"):
        NB201Space(C=0)


@pytest.mark.parametrize("space_name", ["nb201", "sss"])
def test_networks_reject_image_sizes_their_reductions_cannot_halve(space_name, request):
    space = request.getfixturevalue(space_name)
    net = space.build(0).train()
    assert net(torch.zeros(2, 3, 12, 8)).shape == (2, 10)  # multiples of 4 (two halvings)
    for shape in [(2, 3, 15, 16), (2, 3, 16, 10), (3, 16, 16)]:
        with pytest.raises(ValueError, match=r"multiples of 4 .* got \(" + ", ".join(
                map(str, shape))):
            net(torch.zeros(shape))


def test_small_builder_settings():
    small = NB201Space(C=8, N=1)
    assert repr(small) == "NB201Space(C=8, N=1)"
    net = small.build(ALL_CONV)
    assert len(net.cells) == 5
    assert small != NB201Space() and small == NB201Space(C=8, N=1)
    assert repr(NB201Space()) == "NB201Space()"


def test_spaces_pickle_small_and_equal(nb201):
    nb201.index(NATS_SIZE_CELL)  # populate caches
    blob = pickle.dumps(nb201)
    assert len(blob) < 500
    again = pickle.loads(blob)
    assert again == nb201 and again[9930] == NATS_SIZE_CELL


def test_get_and_infer_space():
    assert isinstance(get_space("NB201"), NB201Space)
    assert isinstance(get_space("sss"), NATSSizeSpace)
    with pytest.raises(ValueError, match="unknown search space 'foo'"):
        get_space("foo")
    with pytest.raises(TypeError):
        get_space(3)
    assert isinstance(infer_space(ALL_NONE), NB201Space)
    assert isinstance(infer_space("8:8:8:8:8"), NATSSizeSpace)
    with pytest.raises(ValueError, match="cannot tell"):
        infer_space("resnet18")


def test_fast_average_pooling_equals_torch_pooling():
    from cenas_sklearn.spaces._ops import AvgPool3x3

    torch.manual_seed(0)
    x = torch.randn(3, 5, 7, 6, dtype=torch.float64, requires_grad=True)
    ref = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)(x)
    out = AvgPool3x3()(x)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    g_ref, = torch.autograd.grad((ref ** 2).sum(), x)
    g_out, = torch.autograd.grad((out ** 2).sum(), x)
    torch.testing.assert_close(g_out, g_ref, rtol=1e-12, atol=1e-12)
