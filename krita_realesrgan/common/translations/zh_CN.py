"""Simplified Chinese (简体中文) UI strings: both plugins' and the words of ``common/``'s modules they show."""

STRINGS = {
    # actions and dialog titles
    "Upscale image with AI": "AI 放大图像",
    "Enhance layer / selection with AI": "AI 增强图层/选区",
    "Upscale selection to new document": "AI 放大选区到新文档",
    "Real-ESRGAN": "Real-ESRGAN",
    # dialog
    "Model:": "模型：",
    "Scale:": "放大倍数：",
    "Result size:": "结果尺寸：",
    "Denoise strength:": "降噪强度：",
    "Tile size:": "分块大小：",
    "Device:": "设备：",
    # engine rows (engine_row; the problems are krita_realesrgan.common.engine_setting's)
    "Engine:": "引擎：",
    "On this computer": "在这台电脑上",
    "On another computer": "在另一台电脑上",
    "Address:": "地址：",
    "HOST:PORT, e.g. 192.168.1.20:7860": "主机:端口，例如 192.168.1.20:7860",
    "Token file:": "令牌文件：",
    "The file holding the service's token": "保存该服务令牌的文件",
    "Choose…": "选择…",
    "Give the other computer's address as HOST:PORT (e.g. 192.168.1.20:7860).":
        "请以 主机:端口 的形式填写另一台电脑的地址（例如 192.168.1.20:7860）。",
    "Choose the file holding the token the other computer's service was started with.":
        "请选择保存令牌的文件（另一台电脑上的服务启动时使用的令牌）。",
    "The token file {path} cannot be read or is empty.": "无法读取令牌文件 {path}，或该文件为空。",
    "Could not save the engine setting: {error}": "无法保存引擎设置：{error}",
    "Automatic": "自动",
    "Use the merged visible image instead of the active layer": "使用合并后的可见图像，而不是当前图层",
    "Enhance keeps the size: the image is upscaled, then resampled back.": "增强会保持尺寸：先放大，再缩放回原尺寸。",
    "Smaller tiles need less memory; automatic picks the largest that fits.": "分块越小占用内存越少；自动会选择能放下的最大分块。",
    "{w} × {h} px (from {sw} × {sh} px)": "{w} × {h} 像素（原 {sw} × {sh} 像素）",
    "{name} (not installed)": "{name}（未安装）",
    "No models found. Run the installer.": "未找到模型。请运行安装程序。",
    "Not installed. Get it with: python3 installer.py --models {name}":
        "未安装。安装方法：python3 installer.py --models {name}",
    "Your own weights file: {path}": "自定义权重文件：{path}",
    "Note: {note}": "提示：{note}",
    "Faces: {summary}": "人脸：{summary}",
    # model purposes (from the catalog)
    "Small and fast; anime, illustration and video frames": "小巧快速；适合动漫、插画和视频帧",
    "Best for photos (large, slow)": "照片效果最好（体积大，较慢）",
    "Anime and illustration stills (medium size)": "动漫和插画静态图（中等大小）",
    "Small general model for any picture, with a denoise-strength slider": "适用于各种图片的小型通用模型，可调降噪强度",
    "Photos at x2 (large)": "照片 2 倍放大（体积大）",
    # progress
    "Cancel": "取消",
    "Cancelling…": "正在取消…",
    "Starting the upscaling engine…": "正在启动放大引擎…",
    "Upscale image": "放大图像",
    "Enhance": "增强",
    "Upscale selection": "放大选区",
    "{action}: starting…": "{action}：正在开始…",
    "{action}: tile {done} of {total}": "{action}：第 {done}/{total} 块",
    "About {time} left": "大约还剩 {time}",
    "{n} s": "{n} 秒",
    "{m} min {s} s": "{m} 分 {s} 秒",
    # layers
    "Real-ESRGAN ×{scale} ({model}) — {layer}": "Real-ESRGAN ×{scale}（{model}）— {layer}",
    "Real-ESRGAN enhanced ({model}) — {layer}": "Real-ESRGAN 增强（{model}）— {layer}",
    "merged image": "合并图像",
    # messages
    "The colour model {model} {depth} is not supported (RGBA or greyscale+alpha, 8/16-bit integer or "
    "16/32-bit float).": "不支持色彩模型 {model} {depth}（支持 RGBA 或灰度+透明，8/16 位整数或 16/32 位浮点）。",
    "Open an image first.": "请先打开一张图像。",
    "Select a layer first.": "请先选择一个图层。",
    "Work on a converted RGBA copy of the image instead? The original stays unchanged.":
        "改为在转换成 RGBA 的图像副本上处理吗？原图保持不变。",
    "Details are in the log file: {path}": "详细信息见日志文件：{path}",
    "Something went wrong inside the plugin: {error}": "插件内部出错：{error}",
    "Install the model's weights with the installer, e.g. python3 installer.py --models {model} "
    "(or pick another model).": "请用安装程序安装该模型的权重，例如 python3 installer.py --models {model}（或选择其他模型）。",
    "The upscaling engine is not installed. Run the installer (python3 installer.py), then restart Krita.":
        "放大引擎尚未安装。请运行安装程序（python3 installer.py），然后重启 Krita。",
    "Choose a smaller tile size in the dialog (e.g. 128), or close other programs.":
        "请在对话框中选择更小的分块（例如 128），或关闭其他程序。",
    "Convert the image to RGBA or greyscale (Image ▸ Convert Image Color Space).":
        "请将图像转换为 RGBA 或灰度（图像 ▸ 转换图像色彩空间）。",
    "The engine process stopped unexpectedly; it will be restarted on the next run.":
        "引擎进程意外退出；下次运行时会重新启动。",
    "Choose another device in the dialog (Auto or CPU).": "请在对话框中选择其他设备（自动或 CPU）。",
    # make cover from image
    "Make cover from image": "用图片制作封面",
    "Make cover": "制作封面",
    "Cover size:": "封面尺寸：",
    "Custom size": "自定义尺寸",
    "Width:": "宽：",
    "Height:": "高：",
    "Fit:": "适配方式：",
    "Crop to fill (the crop follows faces)": "裁剪填满（裁剪区域跟随人脸）",
    "Fit with padding (nothing cropped)": "完整放入并留边（不裁剪）",
    "Background:": "背景：",
    "Blurred copy of the picture": "图片的模糊副本",
    "Solid colour": "纯色",
    "Background colour": "背景颜色",
    "Background": "背景",
    "Automatic (chosen by the picture's content)": "自动（按图片内容选择）",
    "A new {w} × {h} px document from this {sw} × {sh} px picture; the whole upscaled picture stays a layer "
    "you can move.": "由这张 {sw} × {sh} 像素的图片生成 {w} × {h} 像素的新文档；放大后的完整图片保留为可移动的图层。",
    "{name}, {w} × {h} px": "{name}，{w} × {h} 像素",
    "Cover — {preset}": "封面 — {preset}",
    "Cover made: {preset}": "封面已生成：{preset}",
    "Faces found: {n}": "找到人脸：{n}",
    "resampled": "仅缩放",
    # export cover
    "Export cover": "导出封面",
    "Preset:": "预设：",
    "No preset (custom)": "无预设（自定义）",
    "File size limit:": "文件大小上限：",
    "No limit": "不限",
    "The largest file the platform takes; 0 means no limit.": "平台接受的最大文件；0 表示不限。",
    "Format:": "格式：",
    "This image is {w} × {h} px; the preset asks for {pw} × {ph} px.":
        "此图像为 {w} × {h} 像素；该预设要求 {pw} × {ph} 像素。",
    "Saved {path}: {how}": "已保存 {path}：{how}",
    "Saved {path}: {how} (limit {limit})": "已保存 {path}：{how}（上限 {limit}）",
    # restore faces
    "Faces:": "人脸：",
    "Restore faces": "修复人脸",
    "GFPGAN restores each face of a photo while the rest is upscaled.": "放大图片的同时，GFPGAN 修复照片中的每张人脸。",
    "How much of the restored face replaces the plain upscale.": "修复后的人脸替换普通放大结果的程度。",
    "Restoring faces is for photos of real people, not for anime models.": "人脸修复用于真人照片，不适用于动漫模型。",
    "Restoring faces needs the face model. Get it with: python3 installer.py --models {name}":
        "人脸修复需要人脸模型。安装命令：python3 installer.py --models {name}",
    # the GIMP plug-in's argument labels and messages (its choices in the user's language)
    "Custom size (width × height below)": "自定义尺寸（下方的宽 × 高）",
    "Cover {size}": "封面 {size}",
    "The preset of the image's size (else custom)": "与图像尺寸相同的预设（否则为自定义）",
    "Custom (no preset: the limit and format below)": "自定义（无预设：按下方的上限和格式）",
    "From the file name (else the preset's first format)": "按文件扩展名（否则用预设的第一种格式）",
    "Saved {path}: {how} ({limit})": "已保存 {path}：{how}（{limit}）",
    "limit {limit:,}": "上限 {limit:,}",
    "no size limit": "无大小限制",
    # device lists (common/device_offers.py; "Automatic" is above)
    "CPU — OpenVINO": "CPU — OpenVINO",
    "CPU — PyTorch": "CPU — PyTorch",
    "Intel GPU — OpenVINO": "英特尔显卡 — OpenVINO",
    "NVIDIA GPU — CUDA": "NVIDIA 显卡 — CUDA",
    "Apple GPU": "苹果显卡",
    "Fast": "快速",
    "Faster, in the reduced precision the device computes natively (bf16 on CPUs with AMX, fp16 on GPUs); the result differs from exact by a few levels.":
        "更快：使用设备原生支持的低精度（带 AMX 的 CPU 用 bf16，显卡用 fp16）；结果与精确模式相差几个色阶。",
    "{cpu} has no native bfloat16, so fast mode would be slower than exact here.":
        "{cpu} 不支持原生 bfloat16，快速模式在这里反而比精确模式慢。",
    "{cpu} computes bfloat16 without AMX, which is slower than exact here, so exact is already the fastest.":
        "{cpu} 计算 bfloat16 时没有 AMX，比精确模式慢，所以精确模式已经最快。",
    # before a run: the question (common/run_question.py; "{n} s" is above)
    "{action}: {source} → {result} pixels ({count}).": "{action}：{source} → {result} 像素（{count}）。",
    "{action}: {source} → {result} pixels ({count}) through the network, then resized to {final}.":
        "{action}：网络把 {source} 放大到 {result} 像素（{count}），再缩放到 {final}。",
    "It needs about {memory} of memory and takes about {time}.": "大约需要 {memory} 内存，耗时约 {time}。",
    "It needs about {memory} of memory; how long it takes is not known yet (this model has not run on this computer so far).":
        "大约需要 {memory} 内存；耗时还不知道（这个模型还没有在这台电脑上运行过）。",
    "That is above the limit of {limit} for one result.": "这超过了单个结果 {limit} 的上限。",
    "Start it?": "要开始吗？",
    "{n} pixels": "{n} 像素",
    "{n} megapixels": "{n} 百万像素",
    "{n} gigapixels": "{n} 十亿像素",
    "{n} min": "{n} 分钟",
    "{n} h": "{n} 小时",
    # why a cover came out as it did, how its file was encoded (common/cover_reasons.py)
    "looks like an illustration ({palette:.0%} of the pixels in the {colours} main colours, {flat:.0%} flat)":
        "看起来是插画（{palette:.0%} 的像素属于 {colours} 种主色，{flat:.0%} 是平涂）",
    "looks like a photo ({palette:.0%} of the pixels in the {colours} main colours, {flat:.0%} flat)":
        "看起来是照片（{palette:.0%} 的像素属于 {colours} 种主色，{flat:.0%} 是平涂）",
    "using {model} (chosen by you)": "使用 {model}（你的选择）",
    "using {model}, the best installed {kind} model": "使用 {model}，已安装的最合适的{kind}模型",
    "no {kind} model is installed (best: {best}; install it with: {hint}); falling back to {model}":
        "没有安装{kind}模型（最合适的是 {best}，安装命令：{hint}），改用 {model}",
    "no {kind} model is installed (best: {best}; install it with: {hint}); no model is installed at all, trying {model}":
        "没有安装{kind}模型（最合适的是 {best}，安装命令：{hint}），也没有安装任何模型，尝试 {model}",
    "the picture ({source}) is already large enough: reduced to {size} without a network":
        "图片（{source}）已经够大：直接缩小到 {size}，未经网络处理",
    "upscaled {source} -> {native} by the network (x{native_scale:g}) on {device}, resampled to {size} (x{factor:.2f} in all)":
        "网络在 {device} 上把 {source} 放大到 {native}（x{native_scale:g}），再重采样到 {size}（总共 x{factor:.2f}）",
    "only the part around the cover went through the network ({part} of the {source} picture)":
        "只有封面周围的部分经过网络处理（{source} 图片中的 {part}）",
    "faces: {restored} restored, {small} too small, {many} beyond the limit":
        "人脸：修复 {restored} 张，{small} 张太小，{many} 张超出上限",
    "faces not restored: {model} is an illustration model, and faces are restored in photos only":
        "未修复人脸：{model} 是插画模型，只修复照片中的人脸",
    "crop placed around the face found": "裁剪框围绕找到的人脸",
    "crop placed around the {faces} faces found": "裁剪框围绕找到的 {faces} 张人脸",
    "{faces} faces found but they do not all fit; crop placed around the {kept} largest":
        "找到 {faces} 张人脸，但放不下全部；裁剪框围绕最大的 {kept} 张",
    "crop centred": "裁剪框居中",
    "no faces found; crop placed on the most salient area": "没有找到人脸；裁剪框放在最显眼的区域",
    "fitted inside {size} on a blurred copy of the picture (nothing cropped)": "完整放入 {size}，背景是图片的模糊副本（没有裁剪）",
    "fitted inside {size} on a {colour} background (nothing cropped)": "完整放入 {size}，背景是纯色 {colour}（没有裁剪）",
    "{format} quality {quality}, {bytes:,} bytes": "{format} 质量 {quality}，{bytes:,} 字节",
    "{format} (lossless), {bytes:,} bytes": "{format}（无损），{bytes:,} 字节",
    "{format} posterised to {bits} bits a channel, {bytes:,} bytes": "{format} 色阶减至每通道 {bits} 位，{bytes:,} 字节",
    "anime": "动漫/插画",
    "photo": "照片",
}
