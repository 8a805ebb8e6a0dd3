import random
import uuid

from laowu.domain.ids import uuid5_str


def test_uuid5_str_is_uuid5() -> None:
    rnd = random.Random(5)
    for i in range(2000):
        namespace = uuid.UUID(int=rnd.getrandbits(128))
        name = f"{rnd.choice(['worker', 'placement', 'followup'])}:{rnd.getrandbits(96):x}{'工' * (i % 3)}"
        assert uuid5_str(namespace, name) == str(uuid.uuid5(namespace, name))
