"""Western names written in Chinese characters by their sound: Rosenblatt = 罗森布拉特.

Chinese text writes a Western name with the characters of the Xinhua transliteration tables
(弗兰克·罗森布拉特, 麦克洛奇, 沃尔特·皮茨, 马尔可夫, 利普希茨); no dictionary lists most of them, so
an English answer or question that writes the name in Latin letters found nothing that
matched. Both sides are reduced to a *consonant skeleton*, classes of consonants that the
tables render alike (b/p, d/t, g/k, f/v/w, l/r, s/z/ts/x, j/ch/q/zh, m, n, initial h), vowels
dropped and repeats merged: Rosenblatt and 罗森布拉特 (luo sen bu la te) are both ``LSNPLT``. A
name matches a run of transliteration characters whose skeleton is the same, or, for names of
five or more consonants, close (one consonant more or less, the same first one: Supervielle
``SPLFL`` ~ 苏佩维埃尔 ``SPFL``), for a whole run only. Only runs made entirely of
transliteration characters count, so ordinary Chinese words rarely sound like names.

Example:
    >>> skeleton_en("Rosenblatt"), skeleton_zh("罗森布拉特")
    ('LSNPLT', 'LSNPLT')
    >>> transliterated("McCulloch", "芝加哥大学的爱德华·麦克洛奇和沃尔特·皮茨构思")
    '麦克洛奇'
    >>> transliterated("Pitts", "芝加哥大学的爱德华·麦克洛奇和沃尔特·皮茨构思")
    '皮茨'
    >>> transliterated("Hinton", "芝加哥大学的爱德华·麦克洛奇和沃尔特·皮茨构思") is None
    True
"""

from __future__ import annotations

import difflib
import functools
import re

__all__ = ["skeleton_en", "skeleton_zh", "transliterated", "transliteration_runs"]

# The characters of the transliteration tables (English and the common European names) with
# their toneless pinyin.
_TABLE = """
阿a 埃ai 艾ai 爱ai 安an 昂ang 奥ao 敖ao
巴ba 拜bai 班ban 邦bang 包bao 保bao 鲍bao 贝bei 本ben 比bi 彼bi 毕bi 宾bin 滨bin 波bo 伯bo
博bo 玻bo 布bu 步bu
查cha 柴chai 昌chang 彻che 琛chen 楚chu 茨ci 采cai 蔡cai 策ce 岑cen 措cuo 崔cui
达da 戴dai 丹dan 当dang 道dao 德de 登deng 邓deng 迪di 蒂di 狄di 丁ding 东dong 杜du 敦dun 顿dun
多duo 朵duo
厄e 恩en 尔er 儿er
法fa 凡fan 范fan 方fang 菲fei 费fei 芬fen 丰feng 冯feng 弗fu 夫fu 福fu 伏fu 富fu 傅fu
伽ga 盖gai 甘gan 冈gang 高gao 戈ge 格ge 哥ge 根gen 贡gong 古gu 瓜gua 圭gui 果guo 郭guo
哈ha 海hai 汉han 杭hang 豪hao 赫he 黑hei 亨heng 洪hong 胡hu 华hua 怀huai 桓huan 惠hui 霍huo
基ji 吉ji 季ji 加jia 贾jia 简jian 姜jiang 杰jie 捷jie 金jin 津jin 京jing 久jiu 居ju 君jun
卡ka 凯kai 坎kan 康kang 考kao 柯ke 科ke 可ke 克ke 肯ken 孔kong 库ku 夸kua 奎kui 昆kun 阔kuo
拉la 莱lai 赖lai 兰lan 朗lang 劳lao 勒le 雷lei 蕾lei 冷leng 里li 利li 莉li 丽li 黎li 连lian
廉lian 良liang 列lie 林lin 琳lin 灵ling 留liu 柳liu 隆long 卢lu 鲁lu 路lu 露lu 伦lun 罗luo
洛luo 律lv 吕lv
马ma 玛ma 迈mai 麦mai 曼man 芒mang 毛mao 茂mao 梅mei 门men 蒙meng 孟meng 米mi 密mi 敏min
明ming 缪miao 莫mo 摩mo 墨mo 默mo 姆mu 穆mu 慕mu
纳na 娜na 奈nai 南nan 瑙nao 内nei 嫩nen 尼ni 妮ni 涅nie 宁ning 纽niu 牛niu 农nong 努nu 诺nuo
欧ou 鸥ou
帕pa 派pai 潘pan 庞pang 佩pei 彭peng 蓬peng 皮pi 珀po 坡po 普pu 浦pu
齐qi 奇qi 琪qi 契qi 恰qia 钱qian 乔qiao 切qie 钦qin 琴qin 琼qiong 丘qiu 秋qiu 屈qu
热re 荣rong 茹ru 瑞rui 若ruo
萨sa 塞sai 赛sai 桑sang 瑟se 森sen 莎sha 沙sha 山shan 尚shang 绍shao 舍she 申shen 圣sheng
施shi 什shi 史shi 舒shu 斯si 松song 苏su 索suo
塔ta 泰tai 坦tan 汤tang 唐tang 陶tao 特te 滕teng 提ti 廷ting 汀ting 通tong 图tu 托tuo
瓦wa 万wan 旺wang 威wei 韦wei 维wei 魏wei 温wen 翁weng 沃wo 乌wu 伍wu
西xi 希xi 锡xi 席xi 夏xia 仙xian 香xiang 肖xiao 谢xie 辛xin 欣xin 休xiu 修xiu 许xu
亚ya 雅ya 扬yang 耶ye 叶ye 伊yi 依yi 因yin 英ying 尤you  约yue
扎za 泽ze 曾zeng 詹zhan 章zhang 哲zhe 珍zhen 朱zhu 祖zu 佐zuo 兹zi
"""
PINYIN: dict[str, str] = {
    item[0]: item[1:] for line in _TABLE.split("\n") for item in line.split() if item
}

_INITIALS = [  # pinyin initial -> class (longest first)
    ("zh", "J"), ("ch", "J"), ("sh", "S"), ("b", "P"), ("p", "P"), ("d", "T"), ("t", "T"),
    ("g", "K"), ("k", "K"), ("f", "F"), ("w", "F"), ("l", "L"), ("r", "L"), ("m", "M"),
    ("n", "N"), ("s", "S"), ("z", "S"), ("c", "S"), ("x", "S"), ("j", "J"), ("q", "J"),
    ("h", "H"),
]  # fmt: skip


def _syllable(py: str) -> str:
    if py == "er":
        return "L"
    out = ""
    for initial, cls in _INITIALS:
        if py.startswith(initial):
            out, py = cls, py[len(initial) :]
            break
    if py.endswith(("n", "ng")):
        out += "N"
    return out


def _merge(classes: str) -> str:
    return re.sub(r"(.)\1+", r"\1", classes)


def skeleton_zh(run: str) -> str:
    """The consonant skeleton of a run of transliteration characters ('' if any is not one).

    >>> skeleton_zh("马尔可夫"), skeleton_zh("利普希茨"), skeleton_zh("模型")
    ('MLKF', 'LPS', '')
    """
    if not run or any(ch not in PINYIN for ch in run):
        return ""
    return _merge("".join(_syllable(PINYIN[ch]) for ch in run))


_EN_RULES = [  # (letters, class), tried in this order at each position
    ("sch", "S"), ("ch", "J"), ("ck", "K"), ("ph", "F"), ("th", "T"), ("sh", "S"), ("gh", ""),
    ("qu", "K"), ("wh", "F"), ("tz", "S"), ("ts", "S"), ("x", "KS"),
]  # fmt: skip
_EN_SINGLE = {
    "b": "P", "p": "P", "d": "T", "t": "T", "k": "K", "q": "K", "f": "F", "v": "F", "w": "F",
    "l": "L", "r": "L", "m": "M", "n": "N", "s": "S", "z": "S", "j": "J",
}  # fmt: skip


def skeleton_en(word: str) -> str:
    """The consonant skeleton of a name in Latin letters ('' when it has other characters).

    >>> skeleton_en("Markov"), skeleton_en("Lipschitz"), skeleton_en("Bengio"), skeleton_en("Gauss")
    ('MLKF', 'LPS', 'PNJ', 'KS')
    """
    w = word.lower()
    if not w.isascii() or not w.isalpha():
        return ""
    w = re.sub(r"(.)\1+", r"\1", w)  # Pitts -> pits, McCulloch -> mculoch
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1] if w[-2] not in "cg" else w
    out, i = "", 0
    while i < len(w):
        for letters, cls in _EN_RULES:
            if w.startswith(letters, i):
                out, i = out + cls, i + len(letters)
                break
        else:
            ch, nxt = w[i], w[i + 1 : i + 2]
            if ch == "c":
                out += "S" if nxt and nxt in "eiy" else "K"
            elif ch == "g":
                out += "J" if nxt and nxt in "eiy" else "K"
            elif ch == "n" and nxt == "g" and w[i + 2 : i + 3] not in tuple("aeiouy"):
                out, i = out + "N", i + 1  # Long, Langley (but Bengio's g is its own)
            elif ch == "h":
                out += "H" if i == 0 else ""
            else:
                out += _EN_SINGLE.get(ch, "")
            i += 1
    return _merge(out)


_RUN = re.compile("[" + "".join(sorted(PINYIN)) + "]+")


@functools.lru_cache(maxsize=256)
def transliteration_runs(text: str) -> tuple[tuple[str, str, bool], ...]:
    """Every substring (2 to 8 characters) of the text's transliteration runs, with its
    skeleton and whether it is a whole run (a name between other characters or a ·)."""
    out: list[tuple[str, str, bool]] = []
    for m in _RUN.finditer(text):
        run = m.group(0)
        for i in range(len(run)):
            for j in range(i + 2, min(len(run), i + 8) + 1):
                out.append((run[i:j], skeleton_zh(run[i:j]), i == 0 and j == len(run)))
    return tuple(out)


def sounds_alike(en: str, zh: str) -> bool:
    """Whether two skeletons match: the same, or (five consonants or more, against four or
    more) one apart with the same first consonant. Shorter ones must be the same: over a
    corpus of names, Walter ``FLTL`` is one apart from 沃尔特 but also from 维多利亚 ``FTL``."""
    if len(en) < 2 or not zh:
        return False
    if en == zh:
        return True
    if len(en) < 5 or len(zh) < 4 or en[0] != zh[0] or abs(len(en) - len(zh)) > 1:
        return False
    return difflib.SequenceMatcher(None, en, zh).ratio() >= 0.8


def transliterated(name: str, text: str) -> str | None:
    """The run of ``text`` that writes ``name`` (one Latin word) by its sound, or None.

    Names of fewer than two consonants ("Ng", "Ali") never match; a close skeleton counts only
    for a whole run (沃尔特 between 和 and ·), not for a piece of a longer one.
    """
    en = skeleton_en(name)
    if len(en) < 2:
        return None
    runs = transliteration_runs(text)
    exact = [run for run, zh, _ in runs if zh == en]
    if exact:
        return max(exact, key=len)  # 利普希茨, not 利普希
    return next((run for run, zh, whole in runs if whole and sounds_alike(en, zh)), None)
