from profview.importers.werkzeug_name import parse_name


def test_default_werkzeug_name():
    wz = parse_name("GET.my_class.38ms.1588862067.prof")
    assert wz == ("GET", "/my_class", 38.0, 1588862067.0, None)


def test_root_and_dotted_paths_parse_from_the_right():
    assert parse_name("GET.root.5015ms.1678908006.prof").url_path == "/"
    wz = parse_name("POST.api.v1.users.42.12ms.1795313503.prof")
    assert (wz.method, wz.url_path, wz.elapsed_ms) == ("POST", "/api/v1/users/42", 12.0)
    # a path segment that looks like the tail does not confuse the parser
    assert parse_name("GET.5ms.7ms.1795313503.prof").url_path == "/5ms"


def test_request_id_before_suffix():
    wz = parse_name("GET.user.alice.23ms.1795313503.a1b2c3.prof")
    assert (wz.url_path, wz.time, wz.request_id) == ("/user/alice", 1795313503.0, "a1b2c3")
    # an id of digits only is still an id, not a fraction of the time ({time:.0f} has none)
    wz = parse_name("GET.item.7.1ms.1795317474.944110277877.prof")
    assert (wz.url_path, wz.time, wz.request_id) == ("/item/7", 1795317474.0, "944110277877")


def test_utf8_path_info_decoded():
    # PATH_INFO carries UTF-8 bytes decoded as latin-1 (PEP 3333)
    name = "GET.café.3ms.1795313503.prof".encode("utf-8").decode("latin-1")
    assert parse_name(name).url_path == "/café"


def test_other_names_are_not_werkzeug():
    for name in ("profile.prof", "GET.root.prof", "get.root.3ms.1.prof", "GET.root.3ms.x.prof",
                 "GET.root.3ms.1795313503.txt", ".prof"):
        assert parse_name(name) is None, name
