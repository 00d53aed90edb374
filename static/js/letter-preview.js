// Live PDF preview on the letter wording page (casework/letters/template_edit.html).
// POSTs the form to the preview URL about 800 ms after the last change and shows the PDF in the
// iframe through an object URL (CSP: frame-src blob:). A refusal (400) shows its message.
const DELAY_MS = 800

function start (form) {
  const url = form.dataset.previewUrl
  const frame = document.querySelector('[data-preview-frame]')
  const error = document.querySelector('[data-preview-error]')
  const message = document.querySelector('[data-preview-message]')
  if (!url || !frame || !error || !message) return

  let timer = null
  let controller = null
  let objectUrl = null

  function showError (text) {
    message.textContent = text
    error.hidden = !text
  }

  async function refresh () {
    if (controller) controller.abort()
    controller = new AbortController()
    try {
      const response = await fetch(url, {
        method: 'POST',
        body: new FormData(form),
        credentials: 'same-origin',
        signal: controller.signal
      })
      if (response.status === 400) {
        showError(await response.text())
        return
      }
      if (!response.ok) {
        showError('The preview could not be made. Try again, or use the Preview as PDF button.')
        return
      }
      const blob = await response.blob()
      if (objectUrl) URL.revokeObjectURL(objectUrl)
      objectUrl = URL.createObjectURL(blob)
      frame.src = objectUrl
      showError('')
    } catch (err) {
      if (err.name !== 'AbortError') {
        showError('The preview could not be made. Check your connection and try again.')
      }
    }
  }

  function schedule () {
    clearTimeout(timer)
    timer = setTimeout(refresh, DELAY_MS)
  }

  form.addEventListener('input', schedule)
  form.addEventListener('change', schedule)
  refresh()
}

document.querySelectorAll('form[data-letter-preview]').forEach(start)
