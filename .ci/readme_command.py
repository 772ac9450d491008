"""Print set-up command N of README.md: the indented line under the item "N. ..." of "## Set-up"."""
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def command(number, text=None):
    text = README.read_text(encoding="utf-8") if text is None else text
    setup = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    found = re.findall(rf"^{number}\. [^\n]*\n\n {{7}}(\S[^\n]*)$", setup, flags=re.M)
    if len(found) != 1:
        sys.exit(f"README.md's Set-up section must have exactly one command {number}; found {len(found)}")
    return found[0]


if __name__ == "__main__":
    print(command(sys.argv[1]))
