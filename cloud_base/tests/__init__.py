from . import test_rules_names
from . import test_direct
from . import test_backward
from . import test_reverse
from . import test_queue
from . import test_safety
from . import test_content
from . import test_performance
