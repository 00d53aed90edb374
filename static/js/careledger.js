// Careledger: start GOV.UK Frontend components (loaded as <script type="module">).
import { initAll } from './govuk-frontend.min.js'

initAll()
