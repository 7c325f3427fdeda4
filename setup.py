"""The wheel carries the model: build_py copies the files analysis needs from models/ (every
top-level *.safetensors and *.json, which include all that heads.json names) into
analyzer/models/, after checking them against heads.json. An editable install copies
nothing: analysis reads models/ of the checkout (analyzer/model_files.py). Everything else
is in pyproject.toml."""
import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_model_files", HERE / "analyzer" / "model_files.py")
model_files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(model_files)


class build_py_with_model(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        source = HERE / "models"
        if found := model_files.problem(source):
            code, detail = found
            raise SetupError(f"[{code}] models/ cannot go into the wheel ({detail}); a wheel without a usable model "
                             "would only stop at its first analysis")
        target = Path(self.build_lib) / "analyzer" / model_files.PACKAGED
        shutil.rmtree(target, ignore_errors=True)  # a stale build/ must not ship files models/ no longer has
        target.mkdir(parents=True)
        for name in model_files.shipped_files(source):
            shutil.copyfile(source / name, target / name)


setup(cmdclass={"build_py": build_py_with_model})
