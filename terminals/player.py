"""What the reference terminal does with a Play: a log line, and speech when it can.

With ``espeak-ng`` on PATH and a tts directory, each text is spoken to
``<tts-dir>/<ebmid>-<lang>.wav``; the synthesis runs in a thread because it takes seconds and
the MQTT connection must keep answering meanwhile. Without them, playback is a log line that
"lasts" ``simulated_seconds``. ``play`` returns when playback is over (the PLAYED moment) and
raises PlaybackFailed when it cannot be done (the FAILED ack's reason).
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
from pathlib import Path

from terminals.agent import Play, Spoken

log = logging.getLogger("ebc.terminal.player")

# espeak-ng voice per ISO 639-2 code; anything else is passed through as the voice name.
VOICES = {"zho": "cmn", "chi": "cmn", "eng": "en", "yue": "yue"}
SPEAK_TIMEOUT = 120.0
_UNSAFE = re.compile(r"[^0-9A-Za-z_-]")


class PlaybackFailed(RuntimeError):
    pass


class Player:
    def __init__(
        self,
        *,
        tts_dir: Path | None = None,
        simulated_seconds: float = 0.0,
        espeak: str | None = None,
        logger: logging.Logger = log,
    ) -> None:
        self.tts_dir = tts_dir
        self.simulated_seconds = simulated_seconds
        self._espeak = espeak if espeak is not None else shutil.which("espeak-ng")
        self._log = logger
        self._noted_missing = False

    async def play(self, play: Play) -> list[Path]:
        """The WAV files written (none in log-only mode)."""
        for spoken in play.texts:
            self._log.info(
                "PLAY %s [%s] vol %d: %s", play.ebmid, spoken.language, play.volume, spoken.text
            )
        if play.audio_url:
            self._log.info(
                "PLAY %s stream %s (the reference terminal does not fetch it)",
                play.ebmid,
                play.audio_url,
            )
        speak = play.tts or not play.audio_url
        if speak and play.texts and self._can_speak():
            return [await asyncio.to_thread(self._speak, play, spoken) for spoken in play.texts]
        if self.simulated_seconds > 0:
            await asyncio.sleep(self.simulated_seconds)
        return []

    def _can_speak(self) -> bool:
        if self.tts_dir is None:
            return False
        if self._espeak is None:
            if not self._noted_missing:
                self._log.warning("espeak-ng not found on PATH: texts are logged, not spoken")
                self._noted_missing = True
            return False
        return True

    def _speak(self, play: Play, spoken: Spoken) -> Path:
        assert self.tts_dir is not None and self._espeak is not None  # checked by _can_speak
        # ebmid and language come from a verified command, but a file name is no place to
        # trust anyone's bytes.
        name = f"{_UNSAFE.sub('_', play.ebmid)}-{_UNSAFE.sub('_', spoken.language)}.wav"
        target = self.tts_dir / name
        voice = VOICES.get(spoken.language, spoken.language or "cmn")
        # espeak-ng amplitude runs 0-200 with 100 as its normal level.
        command = [
            self._espeak,
            "-v",
            voice,
            "-a",
            str(play.volume * 2),
            "-w",
            str(target),
            spoken.text,
        ]
        try:
            self.tts_dir.mkdir(parents=True, exist_ok=True)
            subprocess.run(command, check=True, capture_output=True, timeout=SPEAK_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            raise PlaybackFailed(f"espeak-ng failed for {spoken.language}: {exc}") from exc
        self._log.info("SPOKE %s [%s] -> %s", play.ebmid, spoken.language, target)
        return target
