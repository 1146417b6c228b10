import sys

from asn_eval.cli import main

sys.exit(main())
