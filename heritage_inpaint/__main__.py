"`python -m heritage_inpaint …` (and `accelerate launch -m heritage_inpaint …`) runs the `heritage-inpaint` command."
import sys

from heritage_inpaint.cli import main

sys.exit(main())
